#!/usr/bin/env node
import { runCli } from './cli/program.js'
import { processIo } from './cli/io.js'
import { createCasNode } from './cas-node.js'

const code = await runCli(process.argv.slice(2), processIo(), createCasNode)
process.exitCode = code
// Everything is closed by now; should a library still hold the event loop open, do not hang.
setTimeout(() => process.exit(code), 2_000).unref()
