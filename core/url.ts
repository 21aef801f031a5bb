/**
 * URLs fit to print or store: the credentials of `scheme://user:password@host…` are replaced by
 * `***` (`redis://:s3cret@host:6379` → `redis://***@host:6379`). Every URL ftrun prints or writes
 * into a run or sweep directory goes through redactUrl; the credentials themselves come from the
 * command line or the environment (FTRUN_QUEUE, BRAINTRUST_APP_URL) each time they are needed.
 */

/** `scheme://` then the user-info part up to its last `@` before the host (no `/`, `?` or `#` in it). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]*(?:@[^/?#\s@]*)*@/gi;

/** `url` with its user-info (user name and password), if any, replaced by `***`. Works on text that is not a valid URL too. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1***@');
}

/** Does `url` carry a user name or password? */
export function hasCredentials(url: string): boolean {
  return redactUrl(url) !== url;
}
