import { createRequire } from "node:module";

/**
 * The few DOM members we read, typed here: @xmldom/xmldom's own declarations pull the browser DOM
 * library into the whole program, which changes other files' types.
 */
export interface XNode {
  readonly nodeType: number;
  readonly nextSibling: XNode | null;
}
export interface XElement extends XNode {
  readonly namespaceURI: string | null;
  readonly localName: string;
  readonly firstChild: XNode | null;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getElementsByTagNameNS(ns: string, local: string): ArrayLike<XElement>;
}
interface XmlDom {
  DOMParser: new (options: {
    errorHandler: {
      warning: (m: string) => void;
      error: (m: string) => void;
      fatalError: (m: string) => void;
    };
  }) => { parseFromString(xml: string, mime: string): { documentElement: XElement | null } };
}

const { DOMParser } = createRequire(import.meta.url)("@xmldom/xmldom") as XmlDom;

/** XML that cannot be used, with what is wrong. */
export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlError";
  }
}

const MAX_XML = 1024 * 1024;

/** The root element of `xml`, which must be well-formed, at most 1 MiB and declare no DOCTYPE. */
export function parseXml(xml: string, what: string): XElement {
  if (xml.length > MAX_XML) throw new XmlError(`${what} is larger than 1 MiB`);
  // No DOCTYPE: no entity declarations, so no entity expansion games in documents we act on.
  if (/<!DOCTYPE/i.test(xml)) throw new XmlError(`${what} declares a DOCTYPE, which is refused`);
  const problems: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (m) => void problems.push(m),
      fatalError: (m) => void problems.push(m),
    },
  }).parseFromString(xml, "text/xml");
  const root = doc.documentElement;
  if (problems.length > 0 || !root)
    throw new XmlError(
      `${what} is not well-formed XML${problems[0] ? `: ${problems[0].split("\n")[0]}` : ""}`,
    );
  return root;
}

/** Child elements of `el` with this namespace and local name, in document order. */
export function kids(el: XElement, ns: string, local: string): XElement[] {
  const out: XElement[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 1) continue;
    const e = n as XElement;
    if (e.namespaceURI === ns && e.localName === local) out.push(e);
  }
  return out;
}

/** Descendant elements of `el` with this namespace and local name. */
export function descendants(el: XElement, ns: string, local: string): XElement[] {
  return Array.from(el.getElementsByTagNameNS(ns, local));
}
