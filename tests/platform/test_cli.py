"""The q2c command: help, bad input gives a message and a non-zero exit, users with roles."""

import os
import subprocess
import sys
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.core import clock
from q2c.platform.commands import Q2CCommand


def q2c(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, Q2C_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="q2c.settings")
    env.pop("Q2C_TEST_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "q2c", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_help_lists_the_q2c_commands(tmp_path):
    out = q2c("help", tmp_path=tmp_path).stdout
    for name in ("serve", "worker", "createuser", "audit", "demo", "bench"):
        assert name in out


class DatedCommand(Q2CCommand):
    takes_as_of = True
    seen: list = []

    def handle(self, *args, **options):
        self.seen.append(clock.today())


def test_as_of_sets_the_business_clock_for_the_run():
    DatedCommand.seen.clear()
    DatedCommand().run_from_argv(["q2c", "dated", "--as-of", "2027-02-28"])
    assert DatedCommand.seen == [date(2027, 2, 28)]


@pytest.mark.parametrize("bad", ["2027-13-01", "2027-02-30", "yesterday", "27-1-1"])
def test_an_as_of_that_is_not_a_date_is_a_message_and_exit_2(bad, capsys):
    DatedCommand.seen.clear()
    with pytest.raises(SystemExit) as exit_:
        DatedCommand().run_from_argv(["q2c", "dated", "--as-of", bad])
    assert exit_.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert DatedCommand.seen == []


@pytest.mark.django_db
def test_createuser_gives_the_role_and_refuses_duplicates(capsys):
    call_command("createuser", "rita", "--role", "sales_rep", "--password", "a-long-passphrase")
    rita = User.objects.get(username="rita")
    assert list(rita.groups.values_list("name", flat=True)) == ["sales_rep"]
    assert rita.check_password("a-long-passphrase")
    with pytest.raises(CommandError):
        call_command("createuser", "rita", "--role", "viewer")


@pytest.mark.django_db(transaction=True)
def test_worker_once_runs_due_schedules_and_seals_the_audit_chain():
    # The worker closes stale connections between passes, so this needs a real (not wrapped) transaction.
    from q2c.platform import events, schedules
    from q2c.platform.models import Event, Schedule, ScheduleRun
    from q2c.platform.registry import Job, jobs

    jobs.add("test.noop", Job("test.noop", lambda day: None))
    schedules.ensure("noop", "test.noop", start_date=date(2020, 1, 1), hour=0)
    events.record(events.DomainEvent("Thing", "thing", 1))
    with clock.use(clock.SimulationClock(date(2020, 1, 2))):
        call_command("worker", "--once")
    assert ScheduleRun.objects.filter(schedule__name="noop", status="done").count() == 2
    # Every registered job got a daily schedule from today, without a set-up step.
    assert set(Schedule.objects.values_list("job", flat=True)) >= set(jobs.names())
    assert Event.objects.get(aggregate_type="thing").hash is not None
