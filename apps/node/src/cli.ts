#!/usr/bin/env node
import { tuneGarbageCollector } from '@cas/server/gc-tuning'
import type { NodeFactory } from './daemon.js'

// Before anything else loads: V8's young generation grows while modules load and never shrinks
// back (see @cas/server's gc-tuning), so the rest of the CLI is imported after the tuning.
tuneGarbageCollector()
const { runCli } = await import('./cli/program.js')
const { processIo } = await import('./cli/io.js')

// The node (store, network, server) loads only for commands that run one: the others start fast.
const createNode: NodeFactory = async (context) => (await import('./cas-node.js')).createCasNode(context)

// Under `pnpm cas …` the script runs from the repository root; resolve paths from where the user is.
if (process.env.npm_lifecycle_event === 'cas' && process.env.INIT_CWD !== undefined) process.chdir(process.env.INIT_CWD)

const code = await runCli(process.argv.slice(2), processIo(), createNode)
process.exitCode = code
// Everything is closed by now; should a library still hold the event loop open, do not hang.
setTimeout(() => process.exit(code), 2_000).unref()
