import type { Command } from 'commander'
import { ApiClient } from '../client/api-client.js'
import type { NodeFactory } from '../daemon.js'
import { resolveRoot, rootPaths, type RootPaths } from '../root.js'
import { writeLine, type CliIo } from './io.js'

/** Options every command accepts. */
export interface GlobalOptions {
  root?: string
  json?: boolean
  debug?: boolean
}

/** What commands share: IO, how to build a node, and helpers over the global options. */
export class CommandContext {
  constructor(
    readonly io: CliIo,
    readonly createNode: NodeFactory,
  ) {}

  globals(command: Command): GlobalOptions {
    return command.optsWithGlobals<GlobalOptions>()
  }

  paths(command: Command): RootPaths {
    return rootPaths(resolveRoot(this.globals(command).root, this.io.env))
  }

  async client(command: Command): Promise<ApiClient> {
    return ApiClient.forRoot(this.paths(command))
  }

  json(command: Command): boolean {
    return this.globals(command).json === true
  }

  /** Prints a line on stdout. */
  print(line = ''): void {
    writeLine(this.io.stdout, line)
  }

  /** Prints a value as JSON on stdout. */
  printJson(value: unknown): void {
    writeLine(this.io.stdout, JSON.stringify(value, null, 2))
  }

  /** Prints a note on stderr (warnings, hints), keeping stdout for results. */
  note(line: string): void {
    writeLine(this.io.stderr, `cas: ${line}`)
  }
}
