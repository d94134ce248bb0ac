import type { JobDefinition } from '../types.js';

/**
 * Django's own `clearsessions` with the database session backend (`SESSION_ENGINE` db or cached_db): its
 * `SessionStore.clear_expired` is `objects.filter(expire_date__lt=timezone.now()).delete()`, read in Debian's
 * Django 3.2.25 (django/contrib/sessions/backends/db.py) and unchanged on Django's main branch (with its async twin
 * `aclear_expired`). Nothing references `django_session`: no dependents. With USE_TZ = False, `timezone.now()` is
 * the local time of TIME_ZONE and the connection reads it in TIME_ZONE: the stored instants are true ones, so no
 * time-zone flag is needed (unlike simplejwt's naive UTC).
 */
export const SESSION_PURGES: readonly JobDefinition[] = [
  {
    name: 'django-clearsessions',
    description: "Preset for Django's django_session table: expired sessions, as `manage.py clearsessions` deletes them",
    preset: 'django.contrib.sessions django_session',
    matches: "Django's clearsessions as in 3.2 and main, db or cached_db session backend (expire_date < now)",
    steps: [{ table: 'django_session', primaryKey: 'session_key', timestampColumn: 'expire_date', retentionMs: 0, children: [] }],
  },
];
