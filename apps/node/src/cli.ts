#!/usr/bin/env node
import { runCli } from './cli/program.js'
import { processIo } from './cli/io.js'
import type { NodeFactory } from './daemon.js'

// The node (store, network, server) loads only for commands that run one: the others start fast.
const createNode: NodeFactory = async (context) => (await import('./cas-node.js')).createCasNode(context)

// Under `pnpm cas …` the script runs from the repository root; resolve paths from where the user is.
if (process.env.npm_lifecycle_event === 'cas' && process.env.INIT_CWD !== undefined) process.chdir(process.env.INIT_CWD)

const code = await runCli(process.argv.slice(2), processIo(), createNode)
process.exitCode = code
// Everything is closed by now; should a library still hold the event loop open, do not hang.
setTimeout(() => process.exit(code), 2_000).unref()
