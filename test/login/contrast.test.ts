/**
 * WCAG 2.2 contrast of the login theme, computed from the stylesheet's own CSS variables for light,
 * dark and auto-dark: text at least 4.5:1 (1.4.3), input borders and focus rings at least 3:1 against
 * what they sit on (1.4.11). Input borders were 1.39:1 and the focus ring 2.81:1 before issue 11.
 */
import { describe, expect, it } from 'vitest';
import { loginAssets } from '../../src/login/assets.js';

const css = loginAssets('').get('style.css')!.body;

function variables(selector: RegExp): Record<string, string> {
  const block = selector.exec(css)?.[1];
  if (!block) throw new Error(`no block for ${selector}`);
  return Object.fromEntries([...block.matchAll(/--([a-z-]+):(#[0-9a-f]{3,6})/gi)].map((m) => [m[1]!, m[2]!]));
}

function luminance(hex: string): number {
  const full = hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(full.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

const THEMES = {
  light: variables(/:root\{([^}]*)\}/),
  dark: variables(/:root\[data-theme=dark\]\{([^}]*)\}/),
  'auto, dark': variables(/:root\[data-theme=auto\]\{([^}]*)\}/),
};

/** [foreground, background, why] */
const TEXT: Array<[string, string, string]> = [
  ['text', 'card', 'body text, labels, typed input'],
  ['text', 'bg', 'text outside the card'],
  ['muted', 'card', 'lead and meta text'],
  ['muted', 'bg', 'the footer'],
  ['accent', 'card', 'links'],
  ['accent-text', 'accent', 'primary button label'],
  ['accent-text', 'accent-hover', 'primary button label, hovered'],
  ['danger', 'danger-bg', 'error messages'],
];
const NON_TEXT: Array<[string, string, string]> = [
  ['control-border', 'card', 'input and secondary button borders'],
  ['focus', 'card', 'focus ring around a control on the card'],
  ['focus', 'bg', 'focus ring outside the card'],
  ['danger', 'card', 'the border of an invalid input'],
];

describe.each(Object.entries(THEMES))('login theme contrast (%s)', (_name, theme) => {
  it.each(TEXT)('%s on %s (%s) is at least 4.5:1', (fg, bg) => {
    expect(contrast(theme[fg]!, theme[bg]!)).toBeGreaterThanOrEqual(4.5);
  });

  it.each(NON_TEXT)('%s on %s (%s) is at least 3:1', (fg, bg) => {
    expect(contrast(theme[fg]!, theme[bg]!)).toBeGreaterThanOrEqual(3);
  });
});

describe('login theme', () => {
  it('uses the same colours for dark and for auto in a dark browser', () => {
    expect(THEMES['auto, dark']).toEqual(THEMES.dark);
  });

  it('draws input borders and focus rings with the variables checked above', () => {
    expect(css).toMatch(/input\[type=text\][^{]*\{[^}]*border:1px solid var\(--control-border\)/);
    expect(css).toMatch(/input:focus\{outline:3px solid var\(--focus\)/);
    expect(css).toMatch(/\.button:focus-visible,a:focus-visible\{outline:3px solid var\(--focus\)/);
  });

  it('measures the old colours as the issue did (the check can fail)', () => {
    expect(contrast('#d7dbe3', '#ffffff')).toBeCloseTo(1.39, 2);
    expect(contrast('#7c93ff', '#ffffff')).toBeCloseTo(2.81, 2);
  });
});
