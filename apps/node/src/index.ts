/**
 * @packageDocumentation
 * `@cas/node` — the `cas` binary of CAS: daemon, CLI and HTTP API. The CLI is `dist/cli.js`; this
 * entry exposes the building blocks for programs that embed a daemon or talk to one.
 */
export { ApiClient, type Download, type StatusReply } from './client/api-client.js'
export { readApiFiles, type ApiEndpoint } from './api-files.js'
export { createCasNode } from './cas-node.js'
export { runCli } from './cli/program.js'
export type { CliIo } from './cli/io.js'
export { configSchema, loadConfig, parseConfig, type Config, type ConfigInput, type ConfigOverrides } from './config.js'
export { startDaemon, type BuiltNode, type Daemon, type DaemonOptions, type NodeContext, type NodeFactory, type RunnableNode } from './daemon.js'
export { startDemo, type Demo, type DemoOptions } from './demo.js'
export { CasError, type CasErrorCode } from './errors.js'
export { buildHttpApi, type HttpApi, type HttpApiOptions } from './http/app.js'
export { initRoot, type InitResult } from './init.js'
export type * from './node-like.js'
export { resolveRoot, rootPaths, type RootPaths } from './root.js'
export { VERSION } from './version.js'
