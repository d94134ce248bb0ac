import type { Command } from 'commander';
import { withPoolDb } from '../../db/query.js';
import { detect, type Detection } from '../../detect/index.js';
import { commandDatabase, type SettingsSource } from '../context.js';

interface DetectFlags {
  json?: boolean;
  databaseUrl?: string;
}

export function renderDetection(d: Detection): string {
  const lines: string[] = [];
  lines.push(d.django ? `django_migrations: ${d.apps.length} app(s) recorded` : 'no django_migrations table: the versions below come from the catalog alone');
  for (const a of d.apps.filter((x) => x.implies)) lines.push(`  ${a.app}: ${a.migrations} migration(s), ${a.implies}`);
  if (!d.presets.length) {
    lines.push('no preset applies: none of the apps the presets know (simplejwt token_blacklist, django-oauth-toolkit, Django sessions, HIdP) has its tables here');
  }
  for (const p of d.presets) {
    lines.push('', `${p.job}${p.migrated ? '' : ' (tables found; its app is not in django_migrations)'}`);
    if (p.refused) lines.push(...p.refused.split('\n').map((l) => `  would refuse to run: ${l}`));
    if (p.tables.length) lines.push(`  touches: ${p.tables.join(', ')}`);
    if (p.indexes.length) {
      lines.push('  would be faster with (advice only, nothing is created):');
      lines.push(...p.indexes.map((i) => `    ${i}`));
    }
  }
  for (const i of d.incomplete) lines.push('', `${i.job}: its app is recorded in django_migrations but it cannot run here: ${i.missing.join(', ')}`);
  return lines.join('\n') + '\n';
}

export function registerDetect(program: Command, settings: SettingsSource): void {
  program
    .command('detect')
    .description('read django_migrations and the catalog: which presets apply, the app versions, the tables they touch, indexes that would help (exits 1 when none applies)')
    .option('--json', 'print JSON')
    .option('--database-url <url>', 'database (default: DATABASE_URL, else the local environment)')
    .action(async (flags: DetectFlags) => {
      const s = await settings();
      const found = await withPoolDb(await commandDatabase(s, flags.databaseUrl, 1), (db) => detect(db, s.catalogue.purges()));
      process.stdout.write(flags.json ? JSON.stringify(found) + '\n' : renderDetection(found));
      if (!found.presets.length) process.exitCode = 1;
    });
}
