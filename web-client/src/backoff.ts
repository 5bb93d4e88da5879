/** How long to wait between attempts to reconnect: exponential, capped, jittered. */
export interface Backoff {
  /** The ceiling of the first wait, in ms; each failure in a row doubles it. Default 1000. */
  initialDelayMs?: number;
  /** The largest ceiling, in ms. Default 30000. */
  maxDelayMs?: number;
}

export const defaultBackoff: Required<Backoff> = { initialDelayMs: 1_000, maxDelayMs: 30_000 };

/**
 * The wait before retry number attempt (0 for the first): a random time
 * between half and all of min(maxDelayMs, initialDelayMs * 2^attempt). The
 * jitter spreads out clients that lost their connections at the same moment
 * (a server restart), so they do not all come back at once.
 */
export function backoffDelay(attempt: number, backoff: Backoff = {}, random: () => number = Math.random): number {
  const { initialDelayMs, maxDelayMs } = { ...defaultBackoff, ...backoff };
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after ms, or at once when signal aborts (it never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
