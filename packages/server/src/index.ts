/** @packageDocumentation @cas/server — see README.md. */
export const PACKAGE_NAME = '@cas/server'
