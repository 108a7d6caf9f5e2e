// A person at a browser who signs in through their company's SAML IdP
// (simplesamlphp), driven by internal/e2e/saml_test.go with the protocol of
// driver.mjs: one JSON command per line on stdin, one JSON answer per line
// on stdout ({"ok": true, ...} or {"ok": false, "error": "..."}).
//
// Environment: CHROMIUM (the executable), HEADLESS (default "1").
import { createInterface } from "node:readline";
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

// Console errors on Atrium's pages (a CSP violation is one) are kept; the
// IdP's own pages are not Atrium's to judge.
let atrium = "";
const problems = [];
page.on("console", (m) => {
  if (m.type() === "error" && atrium && m.location().url.startsWith(atrium)) problems.push(`${m.text()} (${m.location().url})`);
});
page.on("pageerror", (e) => problems.push("page error: " + e.message));

// Every document the browser asked for, redirects and form posts included,
// and the forms it posted (the IdP's SAMLResponse among them).
const visited = [];
const posted = {};
page.on("request", (r) => {
  if (!r.isNavigationRequest() || r.frame() !== page.mainFrame()) return;
  visited.push(`${r.method()} ${r.url()}`);
  if (r.method() === "POST") posted[r.url()] = r.postData() || "";
});

const heading = async () => {
  const h = page.getByRole("heading", { level: 1 });
  return (await h.count()) ? (await h.first().textContent()).trim() : "";
};
const here = async (extra = {}) => ({ url: page.url(), heading: await heading(), ...extra });

const ops = {
  async open({ url, atriumURL }) {
    if (atriumURL) atrium = atriumURL;
    visited.length = 0;
    await page.goto(url);
    return here();
  },

  // Follows a link or presses a button by its accessible name.
  async press({ name }) {
    visited.length = 0;
    await Promise.all([
      page.waitForEvent("load"),
      page.getByRole("link", { name, exact: true }).or(page.getByRole("button", { name, exact: true })).click(),
    ]);
    return here();
  },

  // Signs in on simplesamlphp's login form, then waits until the browser has
  // left the IdP (its auto-posting form to Atrium's ACS, and what follows).
  async idpSignIn({ user, password }) {
    const idp = new URL(page.url()).origin;
    visited.length = 0;
    await page.locator("input[name=username]").fill(user);
    await page.locator("input[name=password]").fill(password);
    await page.locator("#submit_button, button[type=submit], input[type=submit]").first().click();
    await page.waitForURL((u) => u.origin !== idp);
    await page.waitForLoadState("load");
    return here({ visited: visited.slice(), posted: { ...posted }, text: await page.locator("body").innerText() });
  },

  // The portal as a person reads it (as driver.mjs does).
  async portal() {
    const accounts = [];
    for (const section of await page.locator("section.account").all()) {
      accounts.push({
        name: (await section.getByRole("heading", { level: 2 }).textContent()).trim(),
        id: (await section.locator(".account-id").textContent()).trim(),
        email: (await section.locator(".email").textContent()).trim(),
        roles: (await section.locator(".role").allTextContents()).map((s) => s.trim()),
      });
    }
    return { heading: await heading(), accounts };
  },

  async cookies() {
    return { cookies: await context.cookies() };
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
    process.stdout.write(JSON.stringify({ ok: false, error: String((e && e.stack) || e), url: page.url() }) + "\n");
  }
}
await browser.close();
