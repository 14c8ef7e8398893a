/** @packageDocumentation cas — the CAS daemon and CLI. */
export const PACKAGE_NAME = '@cas/node'
