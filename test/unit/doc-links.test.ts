import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const PAGES = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (page: string) => readFileSync(join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');

/** The anchor GitHub gives a heading: lower case, punctuation dropped (hyphens and underscores kept), spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

const anchorsOf = (page: string) => new Set([...text(page).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));

it('every link of the README and docs/ to a file of the repository names one that exists, and a section a heading it has', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of PAGES) {
    for (const [, target] of text(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:)/.test(target!)) continue;
      const [path, anchor] = target!.split('#');
      const file = path ? relative(root, join(root, dirname(page), path)) : page;
      checked += 1;
      if (!existsSync(join(root, file))) broken.push(`${page}: ${target} (no file ${file})`);
      else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`);
    }
  }
  expect(checked).toBeGreaterThan(20);
  expect(broken).toEqual([]);
  expect(slug('What `npm start` does')).toBe('what-npm-start-does');
});

it('the README stays a page a newcomer reads in five minutes', () => {
  expect(readFileSync(join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(250);
});
