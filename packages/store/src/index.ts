/** @packageDocumentation @cas/store — see README.md. */
export const PACKAGE_NAME = '@cas/store'
