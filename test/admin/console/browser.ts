/**
 * Headless Chromium for the console tests (Debian's, never a downloaded one), and what the tests read
 * off a page: WCAG contrast of an element's text, CSP violations.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  // Never skipped: a missing browser is a broken test machine, and .ci/run installs it.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Collects the page's Content-Security-Policy violations (the console must have none). */
export function watchCsp(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

/**
 * The WCAG 2 contrast ratio of each matched element's text colour against the first opaque
 * background found on it or its ancestors.
 */
export async function contrastRatios(page: Page, selector: string): Promise<number[]> {
  // A string, not a function: the tests compile without the DOM library.
  return page.evaluate(`(() => {
    const parse = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
    const channel = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    return [...document.querySelectorAll(${JSON.stringify(selector)})].map((element) => {
      const color = parse(getComputedStyle(element).color);
      let background = [255, 255, 255];
      for (let node = element; node; node = node.parentElement) {
        const rgba = parse(getComputedStyle(node).backgroundColor);
        if (rgba.length === 3 || (rgba.length === 4 && rgba[3] > 0.5)) { background = rgba; break; }
      }
      const [a, b] = [luminance(color), luminance(background)].sort((x, y) => y - x);
      return Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100;
    });
  })()`);
}
