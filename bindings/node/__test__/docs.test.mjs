// Every `js` block of docs/node.md and of the package README runs, each as its own
// ES module importing the package by name (as a user's code would).
import { test } from 'node:test'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { REPO } from './helpers.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '.docs')
mkdirSync(out, { recursive: true })

for (const rel of ['docs/node.md', 'bindings/node/README.md']) {
  const text = readFileSync(join(REPO, rel), 'utf8')
  const blocks = [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
  test(`${rel} has js examples`, () => {
    if (blocks.length === 0) throw new Error(`no js block in ${rel}`)
  })
  blocks.forEach((code, i) => {
    test(`${rel} example ${i + 1}`, async () => {
      const file = join(out, `${rel.replace(/[/.]/g, '_')}_${i + 1}.mjs`)
      writeFileSync(file, code)
      await import(pathToFileURL(file).href)
    })
  })
}
