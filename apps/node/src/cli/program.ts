import { Command, CommanderError } from 'commander'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../constants.js'
import type { NodeFactory } from '../daemon.js'
import { CasError, errorMessage } from '../errors.js'
import { VERSION } from '../version.js'
import { registerCatalogCommands } from './commands/catalog.js'
import { registerDaemonCommand } from './commands/daemon.js'
import { registerDemoCommand } from './commands/demo.js'
import { registerSetupCommands } from './commands/setup.js'
import { registerTransferCommands } from './commands/transfer.js'
import { CommandContext } from './context.js'
import { writeLine, type CliIo } from './io.js'

/** Builds the `cas` command tree. */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('cas')
    .description('CAS: a peer-to-peer, content-addressed, encrypted file store')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--root <dir>', 'root directory (default: $CAS_ROOT, else ~/.cas)')
    .option('--json', 'machine-readable output')
    .option('--debug', 'print stack traces of errors')
    .helpOption('-h, --help', 'show help')
    // Commander's own help command shows the program's help, and exits 0, for a command it does not
    // know; this one says the command is unknown, as `cas nonsense` does.
    .helpCommand(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
      // One line, in the same shape as every other error.
      outputError: (text, write) => write(`cas: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (see cas --help)\n`),
    })
  registerSetupCommands(program, ctx)
  registerDaemonCommand(program, ctx)
  registerTransferCommands(program, ctx)
  registerCatalogCommands(program, ctx)
  registerDemoCommand(program, ctx)
  registerHelpCommand(program)
  // Subcommands report their errors (and their --help) the same way as the program.
  for (const command of program.commands) {
    command.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true)
  }
  return program
}

/** `cas help [command]`. */
function registerHelpCommand(program: Command): void {
  program
    .command('help')
    .description('show help for a command')
    .argument('[command]', 'the command')
    .action((name: string | undefined) => {
      if (name === undefined) program.help()
      const command = program.commands.find((c) => c.name() === name || c.aliases().includes(name))
      if (command === undefined) program.error(`unknown command '${name}'`, { code: 'commander.unknownCommand', exitCode: EXIT_USAGE })
      command.help()
    })
}

/**
 * Runs the CLI on `argv` (without node and the script) and returns the exit code (DESIGN §6):
 * 0 on success, 1 on failure, 2 on usage errors; errors are one line on stderr, with the stack
 * only under `--debug`.
 */
export async function runCli(argv: string[], io: CliIo, createNode: NodeFactory): Promise<number> {
  const ctx = new CommandContext(io, createNode)
  const program = buildProgram(ctx)
  const debug = argv.includes('--debug')
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true })
      return EXIT_USAGE
    }
    await program.parseAsync(argv, { from: 'user' })
    return EXIT_OK
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT_OK
      // Commander printed the message already.
      return EXIT_USAGE
    }
    report(io, err, debug)
    return err instanceof CasError ? err.exitCode : EXIT_FAILURE
  }
}

function report(io: CliIo, err: unknown, debug: boolean): void {
  for (const line of errorMessage(err).split('\n')) writeLine(io.stderr, `cas: ${line}`)
  if (debug && err instanceof Error && err.stack !== undefined) {
    writeLine(io.stderr, err.stack)
    let cause: unknown = err.cause
    while (cause instanceof Error) {
      writeLine(io.stderr, `caused by: ${cause.stack ?? cause.message}`)
      cause = cause.cause
    }
  }
}
