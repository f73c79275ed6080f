/**
 * A browser's cookie store for tests that drive the issuer over fetch: cookies kept per origin and
 * path (sent where the request path starts with the cookie's Path), replaced by name, deleted by
 * Max-Age=0. SameSite is not modelled: a test that needs a cross-site POST sends it without the jar.
 */

interface StoredCookie {
  origin: string;
  path: string;
  name: string;
  value: string;
}

export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();

  /** Keeps the Set-Cookie headers of `response` to a request for `url`. */
  store(url: string | URL, response: Response): void {
    const origin = new URL(url).origin;
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const equals = pair!.indexOf('=');
      const name = pair!.slice(0, equals);
      const value = pair!.slice(equals + 1);
      const attribute = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const path = attribute('path') ?? '/';
      const key = `${origin} ${path} ${name}`;
      if (attribute('max-age') === '0') this.#cookies.delete(key);
      else this.#cookies.set(key, { origin, path, name, value });
    }
  }

  /** The Cookie header a browser would send to `url`, or undefined when it has none for it. */
  header(url: string | URL): string | undefined {
    const target = new URL(url);
    const matching = [...this.#cookies.values()].filter((cookie) =>
      cookie.origin === target.origin && (target.pathname === cookie.path || target.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`)));
    return matching.length > 0 ? matching.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') : undefined;
  }

  /** Forgets every cookie: the browser is closed and opened again (no login session, no binding). */
  clear(): void {
    this.#cookies.clear();
  }

  /** The value of cookie `name` this jar would send to `url`. */
  get(url: string | URL, name: string): string | undefined {
    return this.header(url)?.split('; ').find((pair) => pair.startsWith(`${name}=`))?.slice(name.length + 1);
  }
}
