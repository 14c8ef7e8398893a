import { useEffect, useState } from 'preact/hooks'

/** The pages of the UI, addressed by the URL's hash so a reload keeps the place. */
export type Route = { page: 'files' } | { page: 'network'; file?: string }

/** Reads a route from a hash such as `#/network/<address>`. */
export function parseRoute(hash: string): Route {
  const [page, arg] = hash.replace(/^#\/?/, '').split('/')
  if (page === 'network') {
    return arg !== undefined && arg !== '' ? { page: 'network', file: decodeURIComponent(arg) } : { page: 'network' }
  }
  return { page: 'files' }
}

/** The hash of a route. */
export function routeHref(route: Route): string {
  if (route.page === 'network') return route.file === undefined ? '#/network' : `#/network/${encodeURIComponent(route.file)}`
  return '#/files'
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}
