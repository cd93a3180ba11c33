/**
 * A real SAML 2.0 identity provider for tests: Debian's SimpleSAMLphp (1.19) served by PHP's built-in
 * web server from /usr/share/simplesamlphp/www, with a generated configuration directory
 * (SIMPLESAMLPHP_CONFIG_DIR): config.php, authsources.php (exampleauth:UserPass users with uid, mail
 * and groups attributes), saml20-idp-hosted.php with a freshly generated RSA key and certificate, and
 * saml20-sp-remote.php listing the service providers (Gatehouse) it may answer. The flat-file
 * metadata is read on every request, so service providers can be added after start.
 */
import "reflect-metadata";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, webcrypto } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { freePort } from "./ports.js";

x509.cryptoProvider.set(globalThis.crypto);

const WWW = "/usr/share/simplesamlphp/www";

export interface SamlTestUser {
  username: string;
  password: string;
  mail: string;
  groups: string[];
}

/** One service provider the IdP answers (saml20-sp-remote.php). */
export interface RemoteServiceProvider {
  entityID: string;
  /** Assertion Consumer Service URL (HTTP-POST binding). */
  acsURL: string;
  /** The NameID format the IdP sends (default unspecified, with the uid as NameID). */
  nameIDFormat?: string;
  /** More ACS URLs the SP registered (an AuthnRequest may name any of them). */
  extraACS?: string[];
  /** Sign the Response element (default true). */
  signResponse?: boolean;
  /** Sign the Assertion element (default true). */
  signAssertion?: boolean;
  /** PEM certificate the SP signs its AuthnRequests with; when set, the IdP requires the signature. */
  requestSigningCert?: string;
}

export interface SimpleSamlPhp {
  /** http://127.0.0.1:PORT */
  baseURL: string;
  /** The IdP's entity ID (its metadata URL, as SimpleSAMLphp names it). */
  entityID: string;
  /** URL of the IdP's SAML 2.0 metadata document. */
  metadataURL: string;
  /** Single sign-on service (HTTP-Redirect binding). */
  ssoURL: string;
  /** The IdP's signing certificate (PEM); changes with rotateKey(). */
  readonly certPem: string;
  /** Sign with a new key and certificate from now on (the metadata publishes only the new one). */
  rotateKey(): Promise<void>;
  users: SamlTestUser[];
  /** Replace the list of service providers the IdP may answer. */
  setServiceProviders(sps: RemoteServiceProvider[]): void;
  /** The IdP's own log (for failed-test diagnostics). */
  log(): string;
  stop(): Promise<void>;
}

export const SAML_USERS: SamlTestUser[] = [
  { username: "alice", password: "alice-pass-1", mail: "alice@example.org", groups: ["developers", "ops"] },
  { username: "bob", password: "bob-pass-2", mail: "bob@example.org", groups: ["viewers"] },
];

/** An RSA key and a self-signed certificate valid from `from` for `days` days, both PEM. */
export async function rsaCertificate(
  cn: string,
  from: Date,
  days: number,
): Promise<{ certPem: string; keyPem: string }> {
  const alg = {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8)
      .toString("hex")
      .replace(/^[89a-f]/, "1"),
    name: `CN=${cn}`,
    notBefore: from,
    notAfter: new Date(from.getTime() + days * 86_400_000),
    keys,
    signingAlgorithm: alg,
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    certPem: cert.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
  };
}

/** PHP string literal. */
function php(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function phpList(values: string[]): string {
  return `[${values.map(php).join(", ")}]`;
}

/** Start SimpleSAMLphp on a free loopback port; resolves once its metadata is served. */
export async function startSimpleSamlPhp(
  opts: { users?: SamlTestUser[]; serviceProviders?: RemoteServiceProvider[] } = {},
): Promise<SimpleSamlPhp> {
  if (!existsSync(join(WWW, "saml2/idp/SSOService.php"))) {
    throw new Error(
      "SimpleSAMLphp not found: install Debian's simplesamlphp, php-cli, php-xml and php-mbstring (scripts/test.mjs does this)",
    );
  }
  const users = opts.users ?? SAML_USERS;
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-ssp-"));
  for (const d of ["config", "metadata", "cert", "log", "data", "tmp", "sessions"]) mkdirSync(join(dir, d));
  let { certPem, keyPem } = await rsaCertificate("SimpleSAMLphp test IdP", new Date(Date.now() - 60_000), 2);
  writeFileSync(join(dir, "cert/idp.crt"), certPem);
  writeFileSync(join(dir, "cert/idp.key"), keyPem, { mode: 0o600 });

  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const p = (sub: string): string => php(join(dir, sub) + "/");
  writeFileSync(
    join(dir, "config/config.php"),
    `<?php
$config = [
    'baseurlpath' => ${php(baseURL + "/")},
    'certdir' => ${p("cert")},
    'loggingdir' => ${p("log")},
    'datadir' => ${p("data")},
    'tempdir' => ${php(join(dir, "tmp"))},
    'technicalcontact_name' => 'Gatehouse tests',
    'technicalcontact_email' => 'tests@example.org',
    'timezone' => 'UTC',
    'secretsalt' => ${php(randomBytes(24).toString("hex"))},
    'auth.adminpassword' => ${php(randomBytes(24).toString("hex"))},
    'admin.protectindexpage' => false,
    'admin.protectmetadata' => false,
    'errorreporting' => false,
    'showerrors' => true,
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'logging.level' => SimpleSAML\\Logger::INFO,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'session.phpsession.savepath' => ${php(join(dir, "sessions"))},
    'session.duration' => 3600,
    'store.type' => 'phpsession',
    'language.default' => 'en',
    'metadata.sources' => [['type' => 'flatfile', 'directory' => ${p("metadata")}]],
    'metadata.sign.enable' => false,
];
`,
  );
  const userEntries = users
    .map(
      (u) =>
        `        ${php(`${u.username}:${u.password}`)} => ['uid' => [${php(u.username)}], 'mail' => [${php(u.mail)}], 'groups' => ${phpList(u.groups)}],`,
    )
    .join("\n");
  writeFileSync(
    join(dir, "config/authsources.php"),
    `<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'userpass' => [
        'exampleauth:UserPass',
${userEntries}
    ],
];
`,
  );
  const entityID = `${baseURL}/saml2/idp/metadata.php`;
  writeFileSync(
    join(dir, "metadata/saml20-idp-hosted.php"),
    `<?php
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'authproc' => [
        // The NameID is the uid, so that Gatehouse's default (username = NameID) is readable.
        10 => ['class' => 'saml:AttributeNameID', 'attribute' => 'uid',
               'Format' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'],
    ],
];
`,
  );
  const writeSps = (sps: RemoteServiceProvider[]): void => {
    const entries = sps
      .map((sp) => {
        const lines = [
          `    'AssertionConsumerService' => [${[sp.acsURL, ...(sp.extraACS ?? [])]
            .map(
              (u, i) =>
                `['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => ${php(u)}, 'index' => ${i}]`,
            )
            .join(", ")}],`,
          `    'NameIDFormat' => ${php(sp.nameIDFormat ?? "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")},`,
          `    'saml20.sign.response' => ${sp.signResponse === false ? "false" : "true"},`,
          `    'saml20.sign.assertion' => ${sp.signAssertion === false ? "false" : "true"},`,
        ];
        if (sp.requestSigningCert) {
          const body = sp.requestSigningCert.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
          lines.push(`    'certData' => ${php(body)},`, `    'validate.authnrequest' => true,`);
        }
        return `$metadata[${php(sp.entityID)}] = [\n${lines.join("\n")}\n];`;
      })
      .join("\n");
    writeFileSync(join(dir, "metadata/saml20-sp-remote.php"), `<?php\n${entries}\n`);
  };
  writeSps(opts.serviceProviders ?? []);

  const proc: ChildProcess = spawn("php", ["-S", `127.0.0.1:${port}`, "-t", WWW], {
    env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: join(dir, "config") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let serverOutput = "";
  const collect = (b: Buffer): void => {
    serverOutput = (serverOutput + b.toString()).slice(-20_000);
  };
  proc.stdout?.on("data", collect);
  proc.stderr?.on("data", collect);

  const metadataURL = `${baseURL}/saml2/idp/metadata.php?output=xml`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await fetch(metadataURL);
      const text = await r.text();
      if (r.ok && text.includes("IDPSSODescriptor")) break;
      if (Date.now() > deadline)
        throw new Error(`SimpleSAMLphp metadata answered ${r.status}: ${text.slice(0, 500)}`);
    } catch (e) {
      if (Date.now() > deadline || proc.exitCode !== null) {
        proc.kill("SIGKILL");
        throw new Error(`SimpleSAMLphp did not start: ${String(e)}\n${serverOutput}`, { cause: e });
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    baseURL,
    entityID,
    metadataURL,
    ssoURL: `${baseURL}/saml2/idp/SSOService.php`,
    get certPem(): string {
      return certPem;
    },
    async rotateKey(): Promise<void> {
      ({ certPem, keyPem } = await rsaCertificate(
        "SimpleSAMLphp test IdP (rotated)",
        new Date(Date.now() - 60_000),
        2,
      ));
      writeFileSync(join(dir, "cert/idp.crt"), certPem);
      writeFileSync(join(dir, "cert/idp.key"), keyPem, { mode: 0o600 });
    },
    users,
    setServiceProviders: writeSps,
    log(): string {
      const file = join(dir, "log/simplesamlphp.log");
      const own = existsSync(file) ? readFileSync(file, "utf8") : "";
      return `${own}\n--- php -S ---\n${serverOutput}`.slice(-20_000);
    },
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
        setTimeout(() => proc.kill("SIGKILL"), 5_000).unref();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
