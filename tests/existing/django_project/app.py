"""A Django project of Django's own apps, run as a separate process by the tests.

``python app.py URL migrate`` builds the schema the way an application does
(its migrations, and the content types and permissions they create);
``python app.py URL read`` reads every row back through the ORM and inserts
new ones, printing a JSON summary. Django's settings are per process, so each
call is a process of its own.
"""

from __future__ import annotations

import json
import sys
from urllib.parse import urlsplit

import django
from django.conf import settings


def configure(url: str) -> None:
    parts = urlsplit(url)
    settings.configure(
        DATABASES={"default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"), "USER": parts.username or "postgres",
            "HOST": parts.hostname or "127.0.0.1", "PORT": parts.port or 5432,
        }},
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.admin", "django.contrib.sessions",
                        "django.contrib.messages"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    django.setup()


def migrate() -> dict[str, object]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return {"migrated": True}


def read() -> dict[str, object]:
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.sessions.models import Session

    users = list(User.objects.all().prefetch_related("groups", "user_permissions"))
    groups = list(Group.objects.all().prefetch_related("permissions"))
    entries = list(LogEntry.objects.select_related("user", "content_type").all())
    sessions = list(Session.objects.all())
    summary = {
        "users": len(users),
        "usernames_distinct": len({u.username for u in users}) == len(users),
        "user_groups": sum(u.groups.count() for u in users[:50]),
        "groups": len(groups),
        "group_permissions": sum(len(g.permissions.all()) for g in groups),
        "log_entries": len(entries),
        "log_users_known": all(e.user.username for e in entries),
        "sessions": len(sessions),
        "permissions": Permission.objects.count(),
        "emails_valid": all("@" in u.email for u in users if u.email),
    }
    # The application goes on: new rows through the ORM, keys from its sequences.
    new_user = User.objects.create_user("datastorm-new-user", "new@example.com", "s3cret")
    new_group = Group.objects.create(name="datastorm new group")
    new_user.groups.add(new_group)
    summary["new_user_id"] = new_user.id
    summary["new_group_id"] = new_group.id
    summary["max_user_id_before"] = max(u.id for u in users) if users else 0
    return summary


if __name__ == "__main__":
    configure(sys.argv[1])
    action = {"migrate": migrate, "read": read}[sys.argv[2]]
    print(json.dumps(action()))
