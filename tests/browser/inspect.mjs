// Load an HTML page in Debian's Chromium, headless, through puppeteer-core,
// and print as JSON what the e2e tests assert on: console messages and page
// errors, every request the page made, axe-core's accessibility violations
// in light and in dark mode, whether the keyboard reaches the report, and
// whether it prints. Screenshots go to the paths given.
//
//   node inspect.mjs PAGE.html SHOT-LIGHT.png SHOT-DARK.png NODE_MODULES
//
// NODE_MODULES is where scripts/test-tools installed puppeteer-core and
// axe-core. Nothing here reaches beyond the file: any other request is
// recorded (and aborted) for the test to fail on.

import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [page, shotLight, shotDark, modules] = process.argv.slice(2);
const require = createRequire(join(modules, "noop.js"));
const puppeteer = require("puppeteer-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const url = pathToFileURL(page).href;
const profile = mkdtempSync(join(tmpdir(), "portcullis-chromium-"));
const browser = await puppeteer.launch({
  executablePath: process.env.PORTCULLIS_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  userDataDir: profile,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"],
});
const result = { console: [], pageErrors: [], requests: [], axe: {}, keyboard: {}, pdfBytes: 0 };
try {
  // The page as a reader gets it, its Content-Security-Policy in force.
  const tab = await browser.newPage();
  await tab.setViewport({ width: 1200, height: 1500 });
  await tab.setRequestInterception(true);
  tab.on("request", (r) => {
    if (r.url() === url) {
      r.continue();
    } else {
      result.requests.push(r.url());
      r.abort();
    }
  });
  tab.on("console", (m) => result.console.push({ type: m.type(), text: m.text() }));
  tab.on("pageerror", (e) => result.pageErrors.push(String(e)));
  await tab.goto(url, { waitUntil: "load" });
  result.title = await tab.title();
  result.height = await tab.evaluate(() => document.documentElement.scrollHeight);
  await tab.screenshot({ path: shotLight });

  // The keyboard: the first Tab reaches the skip link, Enter follows it.
  await tab.keyboard.press("Tab");
  result.keyboard.first = await tab.evaluate(() => document.activeElement?.textContent ?? "");
  await tab.keyboard.press("Enter");
  result.keyboard.hash = await tab.evaluate(() => location.hash);

  await tab.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
  await tab.evaluate(() => window.scrollTo(0, 0));
  result.darkBackground = await tab.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await tab.screenshot({ path: shotDark });
  await tab.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  result.lightBackground = await tab.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const pdf = await tab.pdf({ format: "A4", printBackground: false });
  result.pdfBytes = pdf.length;
  await tab.close();

  // axe-core cannot run under the page's policy (no script may): a second
  // tab bypasses it only to inject the checker.
  const audit = await browser.newPage();
  await audit.setBypassCSP(true);
  await audit.setViewport({ width: 1200, height: 1500 });
  await audit.goto(url, { waitUntil: "load" });
  await audit.evaluate(axeSource);
  for (const scheme of ["light", "dark"]) {
    await audit.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
    const out = await audit.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.html.slice(0, 200)),
      }));
    });
    result.axe[scheme] = out;
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + "\n");
