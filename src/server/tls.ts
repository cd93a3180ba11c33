import "reflect-metadata";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { webcrypto, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
  /** The CA that signed the serving certificate: what clients pass as --certificate-authority. */
  caPem: string;
  caFile: string;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

/**
 * The self-signed serving certificate kept in DATA_DIR/tls: a private CA (ca.crt) and a serving
 * certificate it signed for localhost, 127.0.0.1, ::1 and the listen host. Generated on first start,
 * reused afterwards, and regenerated when it expires within 30 days or no longer covers the host.
 */
export async function ensureSelfSigned(
  dataDir: string,
  listenHost: string,
  now: Date,
): Promise<ServingCertificate> {
  const dir = join(dataDir, "tls");
  const files = {
    ca: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    cert: join(dir, "serving.crt"),
    key: join(dir, "serving.key"),
  };
  const hosts = uniqueHosts(["localhost", "127.0.0.1", "::1", listenHost]);
  if (Object.values(files).every((f) => existsSync(f))) {
    const certPem = readFileSync(files.cert, "utf8");
    const cert = new X509Certificate(certPem);
    const fresh = new Date(cert.validTo).getTime() - now.getTime() > 30 * DAY;
    const covers = hosts.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
    if (fresh && covers) {
      return {
        certPem,
        keyPem: readFileSync(files.key, "utf8"),
        caPem: readFileSync(files.ca, "utf8"),
        caFile: files.ca,
      };
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=Gatehouse local CA",
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 3650 * DAY),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leafKeys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: "CN=gatehouse",
    issuer: ca.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 365 * DAY),
    signingKey: caKeys.privateKey,
    publicKey: leafKeys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => ({ type: isIP(h) ? "ip" : "dns", value: h })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const pem = async (k: webcrypto.CryptoKey): Promise<string> =>
    x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", k), "PRIVATE KEY");
  const out: ServingCertificate = {
    certPem: leaf.toString("pem") + "\n",
    keyPem: await pem(leafKeys.privateKey),
    caPem: ca.toString("pem") + "\n",
    caFile: files.ca,
  };
  writeAtomic(files.caKey, await pem(caKeys.privateKey), 0o600);
  writeAtomic(files.ca, out.caPem, 0o644);
  writeAtomic(files.key, out.keyPem, 0o600);
  writeAtomic(files.cert, out.certPem, 0o644);
  return out;
}

function uniqueHosts(hosts: string[]): string[] {
  return [...new Set(hosts.filter((h) => h !== "" && h !== "0.0.0.0" && h !== "::"))];
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString("hex")
    .replace(/^[89a-f]/, "1");
}

/** Write then rename, so a crash never leaves half a key on disk. */
function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}
