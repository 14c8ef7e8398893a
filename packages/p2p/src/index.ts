/** @packageDocumentation @cas/p2p — see README.md. */
export const PACKAGE_NAME = '@cas/p2p'
