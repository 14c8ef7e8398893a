import { StoreError } from './errors.js'

/**
 * The capacity check. Puts in progress hold reservations for the bytes they have announced or
 * received so far, so concurrent puts cannot pass the capacity together.
 */
export class Quota {
  readonly capacity: number
  readonly #used: () => number
  #reserved = 0

  /** `used` reports the bytes of the blobs already stored. */
  constructor(capacity: number, used: () => number) {
    this.capacity = capacity
    this.#used = used
  }

  /** A new, empty reservation; release it when the put ends, however it ends. */
  reserve(): Reservation {
    let held = 0
    return {
      growTo: (bytes: number): void => {
        if (bytes <= held) return
        const more = bytes - held
        const taken = this.#used() + this.#reserved
        if (taken + more > this.capacity) {
          throw new StoreError('FULL', `store full: ${taken} of ${this.capacity} bytes taken, a blob needs ${more} more`)
        }
        this.#reserved += more
        held = bytes
      },
      release: (): void => {
        this.#reserved -= held
        held = 0
      },
    }
  }
}

/** Bytes set aside for one put in progress. */
export interface Reservation {
  /** Makes the reservation at least `bytes`; throws FULL when that does not fit. */
  growTo(bytes: number): void
  release(): void
}
