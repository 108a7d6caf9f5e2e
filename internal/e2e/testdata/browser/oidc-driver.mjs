// A person at a browser who signs in through their company's OpenID
// provider, driven by internal/e2e/oidc_test.go with the same protocol as
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

// Console errors on Atrium's pages (a CSP violation is one) are kept for "problems".
const problems = [];
page.on("console", (m) => { if (m.type() === "error") problems.push(`${m.text()} (${m.location().url})`); });
page.on("pageerror", (e) => problems.push("page error: " + e.message));

// Every document the browser asked for, redirects included, in order.
const visited = [];
page.on("request", (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) visited.push(r.url()); });

const heading = async () => {
  const h = page.getByRole("heading", { level: 1 });
  return (await h.count()) ? (await h.first().textContent()).trim() : "";
};
const here = async (extra = {}) => ({ url: page.url(), heading: await heading(), ...extra });

async function submit(control) {
  await Promise.all([page.waitForEvent("load"), control.click()]);
}

const ops = {
  async open({ url }) {
    visited.length = 0;
    await page.goto(url);
    return here();
  },

  // Follows a link or presses a button by its accessible name.
  async press({ name }) {
    visited.length = 0;
    await submit(page.getByRole("link", { name, exact: true }).or(page.getByRole("button", { name, exact: true })));
    return here();
  },

  // Types a user name on Atrium's first sign-in page and presses Next;
  // with until, waits for the browser to reach a URL that starts with it.
  async username({ user, until }) {
    visited.length = 0;
    await page.getByLabel("Username", { exact: true }).fill(user);
    await submit(page.getByRole("button", { name: "Next" }));
    if (until) {
      await page.waitForURL((u) => u.href.startsWith(until));
      await page.waitForLoadState("load");
    }
    return here();
  },

  // Signs in on the identity provider's own login form, then waits until
  // the browser has left the provider (Atrium's callback and what follows).
  async idpSignIn({ user, password, action = "Continue" }) {
    const idp = new URL(page.url()).origin;
    visited.length = 0;
    await page.getByLabel("Corporate username", { exact: true }).fill(user);
    await page.getByLabel("Corporate password", { exact: true }).fill(password);
    await page.getByRole("button", { name: action, exact: true }).click();
    await page.waitForURL((u) => u.origin !== idp);
    await page.waitForLoadState("load");
    return here({ visited: visited.slice(), text: await page.locator("body").innerText() });
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
    return here({ accounts, text: await page.locator("main").innerText() });
  },

  async signOut() {
    await submit(page.getByRole("button", { name: "Sign out" }));
    return here();
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
    process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack || e), url: page.url() }) + "\n");
  }
}
await browser.close();
