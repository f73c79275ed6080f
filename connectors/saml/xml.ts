/**
 * Strict XML reading for SAML: parse errors are refusals, and a few DOM walks (by namespace and
 * local name, never by prefix) used by the response checks and the metadata import.
 */
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
} as const;

export const NODE = { element: 1, processingInstruction: 7, comment: 8, documentType: 10 } as const;

/** Parses XML; any parser error or warning throws (malformed input is never "repaired"). */
export function parseXml(text: string): Document {
  const parser = new DOMParser({
    onError: (level: string, message: string) => {
      throw new Error(`malformed XML (${level}): ${message.split('\n')[0]}`);
    },
  });
  return parser.parseFromString(text, 'text/xml');
}

/**
 * Every node under `root` (root included), depth first, without recursion: a hostile document nested
 * thousands of levels deep neither overflows the stack nor costs more than one step per node.
 */
export function* walk(root: Node): Generator<Node> {
  let node: Node | null = root;
  while (node) {
    yield node;
    if (node.firstChild) {
      node = node.firstChild;
      continue;
    }
    while (node && node !== root && !node.nextSibling) node = node.parentNode;
    node = node && node !== root ? node.nextSibling : null;
  }
}

/** Bounds on a document's shape; a genuine SAML response is a few levels deep and a few hundred nodes. */
export interface XmlLimits {
  maxDepth: number;
  /** Elements, text nodes and attributes together. */
  maxNodes: number;
}

export const SAML_XML_LIMITS: XmlLimits = { maxDepth: 64, maxNodes: 20_000 };

/** Refuses (with the limit named) a document nested deeper or holding more nodes than `limits` allow. */
export function checkShape(root: Node, limits: XmlLimits): void {
  let nodes = 0;
  let depth = 0;
  let node: Node | null = root;
  while (node) {
    nodes += 1 + (node.nodeType === NODE.element ? (node as Element).attributes.length : 0);
    if (nodes > limits.maxNodes) throw new Error(`it holds more than ${limits.maxNodes} XML nodes and attributes`);
    if (node.firstChild) {
      depth += 1;
      if (depth > limits.maxDepth) throw new Error(`it is nested more than ${limits.maxDepth} elements deep`);
      node = node.firstChild;
      continue;
    }
    while (node && node !== root && !node.nextSibling) {
      node = node.parentNode;
      depth -= 1;
    }
    node = node && node !== root ? node.nextSibling : null;
  }
}

export function isElement(node: Node | null | undefined, ns?: string, local?: string): node is Element {
  if (!node || node.nodeType !== NODE.element) return false;
  const element = node as Element;
  return (ns === undefined || element.namespaceURI === ns) && (local === undefined || element.localName === local);
}

/** All descendant elements (root excluded) with this namespace and local name. */
export function descendants(root: Node, ns: string, local: string): Element[] {
  const found: Element[] = [];
  for (const node of walk(root)) if (node !== root && isElement(node, ns, local)) found.push(node);
  return found;
}

/** Direct child elements with this namespace and local name. */
export function children(parent: Node, ns: string, local: string): Element[] {
  const found: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) if (isElement(child, ns, local)) found.push(child);
  return found;
}

export function textOf(element: Element | undefined): string | undefined {
  return element?.textContent?.trim() || undefined;
}

/** base64 body of a PEM certificate or of a bare X509Certificate value, whitespace removed. */
export function certificateBody(pemOrBase64: string): string {
  return pemOrBase64.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** Splits a PEM bundle into its certificates. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export function toPem(base64: string): string {
  const body = certificateBody(base64).match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
