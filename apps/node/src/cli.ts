#!/usr/bin/env node
import { tuneGarbageCollector } from '@cas/server/gc-tuning'
import { execWithOneArena } from '@cas/server/one-arena'
import type { NodeFactory } from './daemon.js'

/** The commands whose process runs nodes. */
const NODE_COMMANDS = new Set(['daemon', 'demo'])

/** The command `argv` names: its first word that is neither a global option nor `--root`'s value. */
function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root') i++
    else if (!argv[i]!.startsWith('-')) return argv[i]
  }
  return undefined
}

// First of all, in a process that runs nodes: it starts over (same pid, arguments and stdio) with
// one malloc heap for all its threads, which only a process's start can choose (see @cas/server's
// one-arena). It comes back here only where it cannot, or once it has. Other commands skip the
// restart's 80 ms.
if (NODE_COMMANDS.has(commandName(process.argv.slice(2)) ?? '')) execWithOneArena()
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
