/** NetworkPolicy ipBlock: a CIDR minus its except blocks, validated as the API server does. */
import { cidrContains, isStrictSubset, parseCidr, type CidrBlock, type IpAddress } from "./ip.js";
import type { IpBlock } from "./types.js";

/** Whether an address is inside the block and outside every except. */
export function ipBlockContains(block: IpBlock, ip: IpAddress | undefined): boolean {
  if (ip === undefined || !cidrContains(block.cidr, ip)) return false;
  return !block.except.some((e) => cidrContains(e, ip));
}

export type IpBlockResult = { ok: true; block: IpBlock } | { ok: false; errors: string[] };

/**
 * Parse `{cidr, except}` at a field path. As networking validation: cidr is required and must
 * parse; every except must parse and be a strict subset of cidr.
 */
export function parseIpBlock(raw: unknown, path: string): IpBlockResult {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [`${path}: must be an object with cidr`] };
  }
  const r = raw as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof r["cidr"] !== "string" || r["cidr"] === "") {
    return { ok: false, errors: [`${path}.cidr: Required value`] };
  }
  const cidr = parseCidr(r["cidr"]);
  if (cidr === undefined) {
    return { ok: false, errors: [`${path}.cidr: invalid CIDR ${JSON.stringify(r["cidr"])}`] };
  }
  const except: CidrBlock[] = [];
  const rawExcept = r["except"] ?? [];
  if (!Array.isArray(rawExcept)) return { ok: false, errors: [`${path}.except: must be a list`] };
  rawExcept.forEach((e: unknown, i) => {
    const p = `${path}.except[${i}]`;
    const block = typeof e === "string" ? parseCidr(e) : undefined;
    if (block === undefined) errors.push(`${p}: invalid CIDR ${JSON.stringify(e)}`);
    else if (!isStrictSubset(block, cidr)) errors.push(`${p}: must be a strict subset of \`cidr\``);
    else except.push(block);
  });
  if (errors.length > 0) return { ok: false, errors };
  const text = except.length > 0 ? `${cidr.text} except ${except.map((e) => e.text).join(", ")}` : cidr.text;
  return { ok: true, block: { cidr, except, text } };
}

/** A plain CIDR as an ipBlock without excepts (admin policies' networks peers). */
export function cidrAsBlock(cidr: CidrBlock): IpBlock {
  return { cidr, except: [], text: cidr.text };
}
