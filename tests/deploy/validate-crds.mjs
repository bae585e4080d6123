// Validates the rendered objects of custom resources (crd-*.json, written by
// check_rendered.py split) against the JSON schemas that the npm packages
// @kubernetes-models/keda and @kubernetes-models/prometheus-operator ship
// (generated from the CRDs, compiled to validators): each object goes through
// its model's validate(), which throws with every schema error.
//
//   node validate-crds.mjs NPM_DIR OBJECTS_DIR
//
// An object of a kind no package models fails. Prints one line per object,
// then "N custom resources valid".
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [npmDir, objectsDir] = process.argv.slice(2);
if (!npmDir || !objectsDir) {
  console.error("usage: node validate-crds.mjs NPM_DIR OBJECTS_DIR");
  process.exit(2);
}

// API group -> the package that models it.
const packages = {
  "keda.sh": "@kubernetes-models/keda",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

let failed = 0;
let valid = 0;
const files = readdirSync(objectsDir).filter((f) => f.startsWith("crd-") && f.endsWith(".json")).sort();
for (const file of files) {
  const obj = JSON.parse(readFileSync(join(objectsDir, file), "utf8"));
  const what = `${obj.kind} ${obj.metadata?.name} (${obj.apiVersion})`;
  const [group, version] = obj.apiVersion.split("/");
  const pkg = packages[group];
  const module = pkg && join(npmDir, "node_modules", pkg, group, version, `${obj.kind}.js`);
  if (!module || !existsSync(module)) {
    console.log(`FAIL ${what}: no schema for it in ${Object.values(packages).join(", ")}`);
    failed++;
    continue;
  }
  const Model = (await import(pathToFileURL(module).href))[obj.kind];
  try {
    new Model(obj).validate();
    console.log(`ok   ${what}`);
    valid++;
  } catch (err) {
    console.log(`FAIL ${what}: ${err.message}`);
    failed++;
  }
}
if (failed) {
  console.log(`${failed} of ${files.length} custom resources invalid`);
  process.exit(1);
}
console.log(valid ? `${valid} custom resources valid` : "no custom resource");
