// A person at a browser, driven by internal/e2e/browser_test.go: it reads
// one JSON command per line on stdin and answers each with one JSON line on
// stdout ({"ok": true, ...} or {"ok": false, "error": "..."}). The browser is
// Debian's Chromium through playwright-core; the person finds every control
// by its label or its role and name, as assistive technology does.
//
// Environment: CHROMIUM (the executable), HEADLESS (default "1").
import { createInterface } from "node:readline";
import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: process.env.HEADLESS !== "0",
  // The test runs as root in a container; Chromium's sandbox needs user namespaces.
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const context = await browser.newContext();
const page = await context.newPage();
page.setDefaultTimeout(20000);

// Every console error (a CSP violation is one) is kept for "problems".
const problems = [];
page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
page.on("pageerror", (e) => problems.push("page error: " + e.message));

// RFC 6238 with the parameters authenticator apps use: SHA-1, 30 s, 6 digits.
const lastStep = new Map();
function base32(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of s.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}
function totp(secret) {
  // A code is accepted once: after one use, take the next time step (the
  // server allows one step of drift) rather than wait for it.
  const step = Math.max(Math.floor(Date.now() / 30000), (lastStep.get(secret) ?? -1) + 1);
  lastStep.set(secret, step);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac("sha1", base32(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1000000).padStart(6, "0");
}

const path = () => new URL(page.url()).pathname;
const heading = async () => (await page.getByRole("heading", { level: 1 }).textContent()).trim();
async function alert() {
  const a = page.getByRole("alert");
  return (await a.count()) ? (await a.first().textContent()).trim() : "";
}

// submit presses a button that sends a form and waits for the page that
// answers (a same-URL answer too, such as an error; a WebAuthn button sends
// its form only once the ceremony is done).
async function submit(button) {
  try {
    await Promise.all([page.waitForEvent("load"), button.click()]);
  } catch (e) {
    // Say what the page said: a WebAuthn status, console errors, where it stands.
    const status = await page.locator("[data-webauthn-status]").allTextContents().catch(() => []);
    const html = await page.content().catch(() => "");
    throw new Error(`${e.message}\nstatus: ${status.join(" ")}\nconsole: ${problems.join("\n")}\npage: ${html.slice(0, 2000)}`);
  }
}

let authenticator = null;
const ops = {
  async open({ url }) {
    await page.goto(url);
    return { url: page.url(), heading: await heading() };
  },

  // Adds Chromium's virtual authenticator (CTAP2, user verification).
  async addSecurityKey() {
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    authenticator = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "usb", hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true },
    });
    authenticator.cdp = cdp;
    return { authenticatorId: authenticator.authenticatorId };
  },
  async securityKeyCredentials() {
    const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.authenticatorId });
    return { count: credentials.length };
  },

  // Signs in from wherever the browser stands, answering each sign-in page
  // as it comes; it returns the pages seen and ends off the sign-in pages.
  async signIn({ user, password, newPassword, secret, mfa = "totp" }) {
    const seen = [];
    for (let i = 0; i < 8 && path().startsWith("/signin"); i++) {
      const p = path();
      seen.push(p);
      if (p === "/signin") {
        await page.getByLabel("Username", { exact: true }).fill(user);
        await submit(page.getByRole("button", { name: "Next" }));
      } else if (p === "/signin/password") {
        await page.getByLabel("Password", { exact: true }).fill(password);
        await submit(page.getByRole("button", { name: "Sign in" }));
      } else if (p === "/signin/new-password") {
        await page.getByLabel("New password", { exact: true }).fill(newPassword);
        await page.getByLabel("Confirm new password", { exact: true }).fill(newPassword);
        await submit(page.getByRole("button", { name: "Set new password" }));
        password = newPassword;
      } else if (p === "/signin/mfa/enroll") {
        if (mfa === "webauthn") {
          await submit(page.getByRole("button", { name: "Register security key" }));
        } else {
          const qr = page.getByRole("img", { name: /QR code/ });
          if (!(await qr.evaluate((img) => img.complete && img.naturalWidth > 0))) throw new Error("the QR code did not load");
          secret = (await page.locator("#totp-secret").textContent()).replace(/\s+/g, "");
          await page.getByLabel("Authenticator code", { exact: true }).fill(totp(secret));
          await submit(page.getByRole("button", { name: "Register authenticator app" }));
        }
      } else if (p === "/signin/mfa") {
        if (mfa === "webauthn") {
          await submit(page.getByRole("button", { name: "Use security key" }));
        } else {
          await page.getByLabel("Authenticator code", { exact: true }).fill(totp(secret));
          await submit(page.getByRole("button", { name: "Verify" }));
        }
      } else {
        throw new Error("unknown sign-in page " + p);
      }
      if (path() === p && (await alert())) throw new Error(p + ": " + (await alert()));
    }
    return { seen, secret, url: page.url(), heading: await heading() };
  },

  // The portal as a person reads it: each account's name, id and email and
  // the permission sets listed under it.
  async portal() {
    if (path() !== "/start") await page.goto(new URL("/start", page.url()).href);
    const accounts = [];
    for (const section of await page.locator("section.account").all()) {
      accounts.push({
        name: (await section.getByRole("heading", { level: 2 }).textContent()).trim(),
        id: (await section.locator(".account-id").textContent()).trim(),
        email: (await section.locator(".email").textContent()).trim(),
        roles: (await section.locator(".role").allTextContents()).map((s) => s.trim()),
      });
    }
    return { heading: await heading(), accounts, text: await page.locator("main").innerText() };
  },

  // Takes command-line credentials for a role, copies them as a person would
  // (selects the text and copies it), and goes back to the accounts.
  async credentials({ account, role }) {
    await submit(page.getByRole("button", { name: `Access keys for ${role} in ${account}` }));
    await page.getByRole("heading", { name: "Environment variables" }).waitFor();
    const exports = await page.locator("#exports").textContent();
    const file = await page.locator("#credentials-file").textContent();
    await page.locator("#exports").selectText();
    const selected = await page.evaluate(() => String(window.getSelection()));
    await submit(page.getByRole("link", { name: "Back to your accounts" }));
    return { exports, file, selected };
  },

  async signOut() {
    await submit(page.getByRole("button", { name: "Sign out" }));
    return { heading: await heading(), text: await page.locator("main").innerText() };
  },

  // Opens an approval link (device verification or /authorize), signs in
  // when asked, checks the approval page and presses Allow (or Deny).
  async approve({ url, signIn, decision = "Allow" }) {
    await page.goto(url);
    let signedIn = null;
    if (path().startsWith("/signin")) signedIn = await ops.signIn(signIn);
    const client = (await page.locator(".client").textContent()).trim();
    const code = (await page.locator("#user-code").count()) ? (await page.locator("#user-code").textContent()).trim() : "";
    const approval = { heading: await heading(), client, code };
    await submit(page.getByRole("button", { name: decision, exact: true }));
    return { signedIn, approval, url: page.url(), text: await page.locator("body").innerText() };
  },

  // The MFA devices page, reached from the portal's link: the devices as
  // its table lists them, and what the page last said.
  async mfaDevices() {
    if (!path().startsWith("/start/mfa")) await submit(page.getByRole("link", { name: "MFA devices" }));
    const devices = [];
    for (const row of await page.locator("table.devices tbody tr").all()) {
      const [name, kind, added, lastUsed] = (await row.locator("th, td").allTextContents()).map((s) => s.trim());
      devices.push({ name, kind, added, lastUsed });
    }
    const status = page.locator("p.notice");
    const notice = (await status.count()) ? (await status.textContent()).trim() : "";
    const canAdd = (await page.getByRole("button", { name: "Register authenticator app" }).count()) > 0;
    const mustConfirm = (await page.getByRole("region", { name: "Confirm it is you to add a device" }).count()) > 0;
    return { heading: await heading(), devices, notice, alert: await alert(), canAdd, mustConfirm };
  },
  // Registers the virtual security key under name on the MFA devices page.
  async addKeyOnDevicesPage({ name }) {
    const region = page.getByRole("region", { name: "Add a security key or built-in authenticator" });
    await region.getByLabel("Device name", { exact: true }).fill(name);
    await submit(region.getByRole("button", { name: "Register security key" }));
    return ops.mfaDevices();
  },
  // The MFA devices page as it is now on the server.
  async reloadDevicesPage() {
    await page.goto(new URL("/start/mfa", page.url()).href);
    return ops.mfaDevices();
  },
  // Confirms on the MFA devices page that it is still them (an old
  // sign-in must before adding a device), with proof ("webauthn" or "password").
  async confirmOnDevicesPage({ proof, password }) {
    const region = page.getByRole("region", { name: "Confirm it is you to add a device" });
    if (proof === "webauthn") {
      await submit(region.getByRole("button", { name: "Confirm with security key" }));
    } else {
      await region.getByLabel("Password", { exact: true }).fill(password);
      await submit(region.getByRole("button", { name: "Confirm", exact: true }));
    }
    return ops.mfaDevices();
  },
  // Removes the device named name, proving who they are with proof
  // ("webauthn", "password" or "code").
  async removeDevice({ name, proof, password, secret }) {
    const region = page.getByRole("region", { name: "Remove a device" });
    await region.getByLabel(name + " (", { exact: false }).check();
    if (proof === "webauthn") {
      await submit(region.getByRole("button", { name: "Confirm with security key and remove" }));
    } else {
      if (proof === "code") await region.getByLabel("Authenticator code", { exact: true }).fill(totp(secret));
      else await region.getByLabel("Password", { exact: true }).fill(password);
      await submit(region.getByRole("button", { name: "Remove device", exact: true }));
    }
    return ops.mfaDevices();
  },

  async cookies() {
    return { cookies: await context.cookies() };
  },

  // For a person debugging a story: what the page looks like now.
  async screenshot({ path }) {
    await page.screenshot({ path, fullPage: true });
    return {};
  },

  async problems() {
    return { problems: problems.splice(0) };
  },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const { op, ...args } = JSON.parse(line);
  if (op === "close") break;
  try {
    const out = await ops[op](args);
    process.stdout.write(JSON.stringify({ ok: true, ...out }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack || e), url: page.url() }) + "\n");
  }
}
await browser.close();
