import type { JSX } from 'preact'
import { useState } from 'preact/hooks'
import { Icon } from './icon'

/** Asks for the bearer token when the page was opened without one (or the node refused it). */
export function TokenGate({ reason, onToken }: { reason: string | null; onToken: (token: string) => void }): JSX.Element {
  const [text, setText] = useState('')
  return (
    <div class="gate">
      <form
        class="gate-card"
        onSubmit={(event) => {
          event.preventDefault()
          if (text.trim() !== '') onToken(text.trim())
        }}
      >
        <div class="brand large">
          <Logo />
          <span>CAS</span>
        </div>
        <h1>Connect to your node</h1>
        <p>
          Open the link printed by <code>cas daemon</code>, or paste the token from <code>&lt;root&gt;/api.token</code>.
        </p>
        {reason !== null && (
          <p class="form-error">
            <Icon name="alert" size={16} /> {reason}
          </p>
        )}
        <label class="field">
          <span>API token</span>
          <input type="password" name="token" autoComplete="off" value={text} onInput={(event) => setText(event.currentTarget.value)} data-autofocus />
        </label>
        <button type="submit" class="primary wide" disabled={text.trim() === ''}>
          Connect
        </button>
      </form>
    </div>
  )
}

/** The CAS mark: a hexagon, the shape of a content-addressed cell. */
export function Logo(): JSX.Element {
  return (
    <svg class="logo" width="28" height="28" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="#4f46e5" />
      <path d="M16 7l8 4.5v9L16 25l-8-4.5v-9z" fill="none" stroke="#fff" stroke-width="2.4" stroke-linejoin="round" />
      <circle cx="16" cy="16" r="2.6" fill="#a5b4fc" />
    </svg>
  )
}
