// Copies the front-end packages installed by `npm ci` into Django's static files, so pages
// load KERN UX, its fonts and htmx from our own server (no CDN). Run by `make setup`.
import { cpSync, mkdirSync, rmSync, copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "src/rathaus/core/static/vendor");
const nm = join(root, "node_modules");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "kern"), { recursive: true });
mkdirSync(join(out, "htmx"), { recursive: true });
mkdirSync(join(out, "leaflet"), { recursive: true });

const kern = join(nm, "@kern-ux/native/dist");
for (const file of ["kern.min.css", "kern-utilities.min.css"]) {
  copyFileSync(join(kern, file), join(out, "kern", file));
}
cpSync(join(kern, "fonts"), join(out, "kern/fonts"), { recursive: true });
copyFileSync(join(nm, "@kern-ux/native/LICENSE.md"), join(out, "kern/LICENSE.md"));
copyFileSync(join(nm, "htmx.org/dist/htmx.min.js"), join(out, "htmx/htmx.min.js"));
for (const file of ["leaflet.js", "leaflet.css"]) {
  copyFileSync(join(nm, "leaflet/dist", file), join(out, "leaflet", file));
}
cpSync(join(nm, "leaflet/dist/images"), join(out, "leaflet/images"), { recursive: true });
copyFileSync(join(nm, "leaflet/LICENSE"), join(out, "leaflet/LICENSE"));
console.log(`static assets: KERN UX, htmx and Leaflet copied to ${out}`);
