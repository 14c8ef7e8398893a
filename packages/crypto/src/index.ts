/** @packageDocumentation @cas/crypto — see README.md. */
export const PACKAGE_NAME = '@cas/crypto'
