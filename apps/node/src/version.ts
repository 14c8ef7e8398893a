/** Version of the `cas` app, set at build time from package.json (sources report "dev"). */
declare const __CAS_VERSION__: string | undefined

export const VERSION: string = typeof __CAS_VERSION__ === 'string' ? __CAS_VERSION__ : 'dev'
