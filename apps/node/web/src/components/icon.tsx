import type { JSX } from 'preact'

// Stroked 24×24 outlines, drawn inline so the UI needs no icon font or image requests.
const PATHS = {
  files: 'M4 6.5A1.5 1.5 0 0 1 5.5 5h4l2 2h7A1.5 1.5 0 0 1 20 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 4 17.5z',
  network: 'M12 5.5a2 2 0 1 0 0 .01M5.5 17a2 2 0 1 0 0 .01M18.5 17a2 2 0 1 0 0 .01M11 7.3 6.6 15.2M13 7.3l4.4 7.9M7.5 17.5h9',
  upload: 'M12 15V4m0 0-4 4m4-4 4 4M5 15v3.5A1.5 1.5 0 0 0 6.5 20h11a1.5 1.5 0 0 0 1.5-1.5V15',
  download: 'M12 4v11m0 0-4-4m4 4 4-4M5 15v3.5A1.5 1.5 0 0 0 6.5 20h11a1.5 1.5 0 0 0 1.5-1.5V15',
  trash: 'M5 7h14M10 7V5h4v2M7 7l.8 11.2A2 2 0 0 0 9.8 20h4.4a2 2 0 0 0 2-1.8L17 7M10.5 11v5M13.5 11v5',
  share: 'M10 14a4 4 0 0 0 5.7 0l2.8-2.8a4 4 0 0 0-5.7-5.7L11.5 6.8M14 10a4 4 0 0 0-5.7 0l-2.8 2.8a4 4 0 0 0 5.7 5.7l1.3-1.3',
  copy: 'M9 9h9.5v10.5H9zM15 9V5.5H5.5V15H9',
  placement: 'M4 5h4v4H4zM10 5h4v4h-4zM16 5h4v4h-4zM4 11h4v4H4zM16 11h4v4h-4zM10 17h4v4h-4z',
  search: 'M11 5a6 6 0 1 0 0 12 6 6 0 0 0 0-12zM15.5 15.5 20 20',
  close: 'M6 6l12 12M18 6 6 18',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  alert: 'M12 4 2.8 19.5h18.4zM12 10v4.5M12 17.2v.1',
  logout: 'M14 5h4.5A1.5 1.5 0 0 1 20 6.5v11a1.5 1.5 0 0 1-1.5 1.5H14M10 16l-4-4 4-4M6 12h10',
  file: 'M7 3.5h6.5L18 8v12.5H7zM13 3.5V8.5h5',
  key: 'M12 16a4 4 0 1 1-8 0 4 4 0 0 1 8 0zM10.8 13.2 20 4M16.5 7.5l2.5 2.5M14 10l2 2',
  refresh: 'M19 12a7 7 0 1 1-2.05-4.95M19 5v4h-4',
  server: 'M4 5h16v5H4zM4 14h16v5H4zM7.5 7.5v.01M7.5 16.5v.01',
  shield: 'M12 3.5 5 6.5v5c0 4.4 3 7.6 7 9 4-1.4 7-4.6 7-9v-5z',
} as const

/** Name of one of the UI's icons. */
export type IconName = keyof typeof PATHS

/** An inline SVG icon that takes the text colour. */
export function Icon({ name, size = 18, class: className }: { name: IconName; size?: number; class?: string }): JSX.Element {
  return (
    <svg
      class={className === undefined ? 'icon' : `icon ${className}`}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="1.8"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
    >
      <path d={PATHS[name]} />
    </svg>
  )
}
