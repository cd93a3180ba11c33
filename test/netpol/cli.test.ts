/** `gatehouse netpol`: in-process for output, and as a real process for exit codes and stdin. */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError, NegativeAnswer } from "../../src/cli/errors.js";
import { toYaml, type Output } from "../../src/cli/io.js";
import { buildProgram } from "../../src/cli/program.js";
import { netpol, xyz } from "./fixtures.js";

let dir: string;
let objects: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "netpol-cli-"));
  objects = join(dir, "objects");
  mkdirSync(objects);
  writeFileSync(join(objects, "cluster.yaml"), xyz(["x/a", "x/b", "y/a"]).map(toYaml).join("---\n"));
  writeFileSync(
    join(objects, "policies.yaml"),
    [
      netpol("x", "allow-b-to-a", {
        podSelector: { matchLabels: { pod: "a" } },
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ podSelector: { matchLabels: { pod: "b" } } }], ports: [{ port: "serve-80-tcp" }] },
        ],
      }),
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "ignored", namespace: "x" },
        data: { a: "b" },
      },
    ]
      .map(toYaml)
      .join("---\n"),
  );
  writeFileSync(
    join(dir, "probes.jsonl"),
    [
      '{"from": "x/b", "to": "x/a", "port": 80, "protocol": "TCP"}',
      '{"from": "y/a", "to": "x/a", "port": "serve-80-tcp"}',
      '{"from": "ip:203.0.113.1", "to": "y/a", "port": 81, "protocol": "UDP"}',
    ].join("\n") + "\n",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ out: string; err: string; error?: unknown }> {
  let out = "";
  let err = "";
  const output: Output = { out: (t) => void (out += t), err: (t) => void (err += t) };
  try {
    await buildProgram(output).parseAsync(["node", "gatehouse", ...args]);
    return { out, err };
  } catch (error) {
    return { out, err, error };
  }
}

describe("gatehouse netpol check", () => {
  it("prints one JSON verdict per probe, in input order, with the policies that decided", async () => {
    const { out, error } = await run([
      "netpol",
      "check",
      "--objects",
      objects,
      "--probes",
      join(dir, "probes.jsonl"),
    ]);
    expect(error).toBeUndefined();
    const lines = out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l["from"], l["to"], l["allowed"]])).toEqual([
      ["x/b", "x/a", true],
      ["y/a", "x/a", false],
      ["ip:203.0.113.1", "y/a", true],
    ]);
    expect(lines[1]).toMatchObject({
      port: "serve-80-tcp",
      resolvedPort: 80,
      ingress: {
        allowed: false,
        decidedBy: "networkpolicy",
        policies: [{ name: "allow-b-to-a", namespace: "x" }],
      },
    });
    expect(String(lines[1]?.["explanation"])).toContain(
      "isolated for ingress by NetworkPolicy x/allow-b-to-a",
    );
  });

  it("refuses a probe naming an unknown pod, printing nothing", async () => {
    const probes = join(dir, "bad-probes.jsonl");
    writeFileSync(
      probes,
      '{"from": "x/b", "to": "x/a", "port": 80}\n{"from": "x/nope", "to": "x/a", "port": 80}\n',
    );
    const { out, error } = await run(["netpol", "check", "--objects", objects, "--probes", probes]);
    expect(out).toBe("");
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toBe(`${probes} line 2: probe: unknown pod "x/nope"`);
  });

  it("refuses an invalid policy, naming the file and document", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      toYaml(
        netpol("x", "bad", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/40" } }] }] }),
      ),
    );
    const { error } = await run(["netpol", "matrix", "--objects", objects, bad, "--port", "80"]);
    expect((error as CliError).message).toBe(
      `${bad} document 1 (line 1): NetworkPolicy x/bad: spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR "10.0.0.0/40"`,
    );
  });

  it("requires --objects", async () => {
    const { error } = await run(["netpol", "matrix"]);
    expect((error as CliError).message).toMatch(/--objects is required/);
  });
});

describe("gatehouse netpol matrix", () => {
  it("prints the truth table with sources as rows", async () => {
    const { out } = await run(["netpol", "matrix", "--objects", objects, "--port", "80"]);
    expect(out).toBe(
      [
        "TCP/80   x/a   x/b   y/a",
        "x/a      .     .     .",
        "x/b      .     .     .",
        "y/a      X     .     .",
        ". allowed   X blocked",
        "",
      ].join("\n"),
    );
  });

  it("blocks port 81 to x/a for everyone but x/a itself", async () => {
    const { out } = await run([
      "netpol",
      "matrix",
      "--objects",
      objects,
      "--port",
      "81",
      "--protocol",
      "tcp",
      "-o",
      "json",
    ]);
    expect(JSON.parse(out)).toMatchObject({
      title: "TCP/81",
      pods: ["x/a", "x/b", "y/a"],
      allowed: [
        [true, true, true],
        [false, true, true],
        [false, true, true],
      ],
    });
  });

  it("without --port answers for any port", async () => {
    const { out } = await run(["netpol", "matrix", "--objects", objects, "-o", "json"]);
    expect(JSON.parse(out)).toMatchObject({
      title: "any port (TCP, UDP, SCTP)",
      allowed: [
        [true, true, true],
        [true, true, true],
        [false, true, true],
      ],
    });
  });

  it("rejects a bad protocol", async () => {
    const { error } = await run(["netpol", "matrix", "--objects", objects, "--protocol", "icmp"]);
    expect((error as CliError).message).toBe('--protocol must be TCP, UDP or SCTP, not "icmp"');
  });
});

describe("gatehouse netpol lint", () => {
  it("prints findings as a table and answers negatively on warnings", async () => {
    const deny = join(dir, "lint");
    mkdirSync(deny);
    writeFileSync(join(deny, "p.yaml"), toYaml(netpol("x", "deny-egress", { podSelector: {}, egress: [] })));
    const { out, error } = await run(["netpol", "lint", "--objects", objects, deny]);
    expect(error).toBeInstanceOf(NegativeAnswer);
    expect(out.split("\n")[0]).toMatch(/^SEVERITY\s+CODE\s+OBJECT\s+MESSAGE$/);
    expect(out).toContain("EgressDenyIneffective");
  });

  it("prints JSON findings with their files", async () => {
    const { out, error } = await run(["netpol", "lint", "--objects", objects, "-o", "json"]);
    expect(error).toBeUndefined();
    const findings = JSON.parse(out) as { code: string; file?: string }[];
    expect(findings.every((f) => f.code !== undefined)).toBe(true);
  });
});

describe("the gatehouse process", () => {
  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, ["dist/src/cli/main.js", ...args], {
      input: input ?? "",
      encoding: "utf8",
      cwd: process.cwd(),
    });

  it("reads probes from standard input and exits 0", () => {
    const r = cli(["netpol", "check", "--objects", objects], '{"from": "x/b", "to": "x/a", "port": 80}\n');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ allowed: true });
  });

  it("exits 2 with a message naming the line for malformed probe JSON, printing nothing", () => {
    const r = cli(
      ["netpol", "check", "--objects", objects],
      '{"from": "x/b", "to": "x/a", "port": 80}\n{"from":\n',
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: <stdin> line 2: probe: invalid JSON/);
  });

  it("exits 2 for a malformed YAML file", () => {
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "kind: Pod\nmetadata: [\n");
    const r = cli(["netpol", "matrix", "--objects", broken]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${broken} document 1`);
  });
});
