import { readFile, writeFile, rename } from 'node:fs/promises'
import { z } from 'zod'
import { parseHostPort } from './address.js'
import {
  DEFAULT_API,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_LISTEN,
  DEFAULT_LOG_LEVEL,
  DEFAULT_REPLICAS,
  DEFAULT_SCRUB_BYTES_PER_SECOND,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
} from './constants.js'
import { CasError, errorCode } from './errors.js'
import { parseSize } from './size.js'

const hostPort = z.string().refine((text) => parseHostPort(text) !== undefined, { message: 'expected HOST:PORT, e.g. 127.0.0.1:7401' })

/** A size in bytes: a non-negative integer or a string such as "10GB" (see {@link parseSize}). */
const size = z.union([z.int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value
  const bytes = parseSize(value)
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a size: ${JSON.stringify(value)} (try "10GB", "512MiB" or a number of bytes)` })
    return z.NEVER
  }
  return bytes
})

/** One address or a list of them. */
const addressList = z.union([hostPort.transform((a) => [a]), z.array(hostPort).min(1)])

/** Log levels pino knows. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * `<root>/config.json` (DESIGN §3). Unknown keys are an error, so a typo never goes unnoticed.
 * Every field is optional; missing ones take the defaults from `constants.ts`.
 */
export const configSchema = z.strictObject({
  /** Peer-to-peer listen address(es). */
  listen: addressList.default([DEFAULT_LISTEN]),
  /** HTTP API and web UI address. */
  api: hostPort.default(DEFAULT_API),
  /** Peer addresses to join the network through. */
  bootstrap: z.array(z.string().min(1)).default([]),
  /** Live copies kept of every blob. */
  replicas: z.int().min(1).max(64).default(DEFAULT_REPLICAS),
  /** Disk space offered to the network; null = unlimited. */
  capacity: size.nullable().default(null),
  /** Plaintext chunk size of new files. */
  chunkSize: z.int().min(MIN_CHUNK_SIZE).max(MAX_CHUNK_SIZE).default(DEFAULT_CHUNK_SIZE),
  /** Largest upload the API accepts; null = no limit. */
  maxUploadSize: size.nullable().default(null),
  /** Rate of the background integrity scrub, bytes per second. */
  scrubBytesPerSecond: size.default(DEFAULT_SCRUB_BYTES_PER_SECOND),
  /** Daemon log level. */
  logLevel: z.enum(LOG_LEVELS).default(DEFAULT_LOG_LEVEL),
})

/** The validated configuration, defaults filled in, sizes in bytes. */
export type Config = z.output<typeof configSchema>
/** What a config file (or a set of flags) may contain. */
export type ConfigInput = z.input<typeof configSchema>

/** Settings given on the command line; they override the config file. */
export type ConfigOverrides = Partial<Config>

/** The config written by `cas init`: the main settings spelled out, so they are easy to find and edit. */
export function initialConfig(overrides: ConfigInput = {}): ConfigInput {
  return { listen: [DEFAULT_LISTEN], api: DEFAULT_API, bootstrap: [], replicas: DEFAULT_REPLICAS, capacity: null, ...overrides }
}

/** Describes each validation issue on its own line: `field: what is wrong`. */
export function formatIssues(error: z.ZodError): string[] {
  const lines: string[] = []
  for (const issue of error.issues) {
    const field = issue.path.map(String).join('.')
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${field === '' ? '' : `${field}.`}${key}: unknown key`)
    } else {
      lines.push(`${field === '' ? '(top level)' : field}: ${issue.message}`)
    }
  }
  return lines
}

/** Validates a parsed config object; `source` names it in error messages. */
export function parseConfig(value: unknown, source: string): Config {
  const result = configSchema.safeParse(value)
  if (!result.success) {
    const lines = formatIssues(result.error).map((line) => `${source}: ${line}`)
    throw new CasError('CONFIG_INVALID', lines.join('\n'), { cause: result.error })
  }
  return result.data
}

/** Reads and validates `<root>/config.json`. */
export async function loadConfig(path: string): Promise<Config> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (errorCode(err) === 'ENOENT') {
      throw new CasError('NOT_INITIALIZED', `${path} does not exist; run \`cas init\` first`, { cause: err })
    }
    throw new CasError('CONFIG_INVALID', `${path}: cannot read: ${(err as Error).message}`, { cause: err })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new CasError('CONFIG_INVALID', `${path}: not valid JSON: ${(err as Error).message}`, { cause: err })
  }
  return parseConfig(value, path)
}

/** The config with command-line overrides applied (flags win). */
export function applyOverrides(config: Config, overrides: ConfigOverrides): Config {
  const merged: Config = { ...config }
  for (const [key, value] of Object.entries(overrides) as [keyof Config, unknown][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value
  }
  return merged
}

/** Writes a config file atomically (write to a temp name, then rename). */
export async function writeConfig(path: string, config: ConfigInput): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 })
  await rename(temp, path)
}
