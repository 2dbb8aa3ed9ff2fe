"""Automated workflows become an app of their own: their six models move here from `campaigns`
with their rows. This migration only tells Django's state that they now live here, on the
tables they already have (`campaigns_*`, created by campaigns 0005); `campaigns` 0008 drops
them from its state, and 0002 renames the tables and moves the content types (so permissions
granted to staff stay attached)."""

import datetime
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('campaigns', '0007_webhook_secret_help_timestamped'),
        ('contacts', '0008_used_token'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Workflow',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=160, verbose_name='name')),
                        ('description', models.TextField(blank=True, verbose_name='description')),
                        ('status', models.CharField(choices=[('draft', 'draft'), ('active', 'active'), ('paused', 'paused')], default='draft', max_length=10, verbose_name='status')),
                        ('trigger', models.CharField(choices=[('touchpoint', 'an interaction (form sent, opt-in, e-mail click, survey…)'), ('segment', 'entering a segment'), ('date', 'a date of the contact (anniversary, custom date)'), ('manual', 'only when staff enrol contacts')], default='manual', max_length=12, verbose_name='enrols contacts on')),
                        ('trigger_kind', models.CharField(blank=True, max_length=40, verbose_name='interaction')),
                        ('trigger_subject_id', models.CharField(blank=True, max_length=64, verbose_name='about this one (id)')),
                        ('trigger_conditions', models.JSONField(blank=True, default=list, help_text='A list of conditions, e.g. [{"key": "nps", "op": "lte", "value": 6}]. Operators: eq, ne, gt, gte, lt, lte, in, contains.', verbose_name="conditions on the interaction's properties")),
                        ('trigger_date_field', models.CharField(blank=True, help_text='"created_at" (registration) or the key of a date custom property.', max_length=80, verbose_name='date of the contact')),
                        ('trigger_date_mode', models.CharField(choices=[('anniversary', 'every year on that day'), ('once', 'on that date')], default='anniversary', max_length=12, verbose_name='when')),
                        ('trigger_date_offset_days', models.SmallIntegerField(default=0, help_text='Negative: before the date (-7 is a week before).', verbose_name='days from the date')),
                        ('trigger_time', models.TimeField(default=datetime.time(9, 0), verbose_name='at (Madrid time)')),
                        ('conditions', models.JSONField(blank=True, default=dict, help_text='A segment rule the contact must match to be enrolled. Empty: anyone.', verbose_name='enrolment conditions')),
                        ('goal', models.JSONField(blank=True, default=dict, help_text='A segment rule: a contact who matches it leaves the workflow before their next step, as having reached the goal. Empty: no goal.', verbose_name='goal')),
                        ('reenrol', models.CharField(choices=[('never', 'never: once per contact'), ('after', 'again after some days'), ('always', 'every time the trigger happens')], default='never', max_length=8, verbose_name='re-enrolment')),
                        ('reenrol_days', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='days before enrolling again')),
                        ('activated_at', models.DateTimeField(blank=True, null=True, verbose_name='activated')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('trigger_segment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contacts.segment', verbose_name='segment entered')),
                        ('trigger_subject_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contenttypes.contenttype', verbose_name='about a kind of thing')),
                    ],
                    options={
                        'db_table': 'campaigns_workflow',
                        'verbose_name': 'workflow',
                        'verbose_name_plural': 'workflows',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Enrollment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('active', 'in progress'), ('completed', 'completed'), ('goal', 'reached the goal'), ('exited', 'removed'), ('failed', 'failed')], default='active', max_length=10, verbose_name='status')),
                        ('next_run_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next step at')),
                        ('seq', models.PositiveIntegerField(default=0, verbose_name='steps run')),
                        ('trigger_key', models.CharField(blank=True, max_length=80)),
                        ('context', models.JSONField(blank=True, default=dict)),
                        ('enrolled_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='enrolled')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                        ('waiting', models.BooleanField(default=False)),
                        ('test', models.BooleanField(default=False, editable=False)),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to='contacts.contact')),
                        ('enrolled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('workflow', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to='workflows.workflow')),
                    ],
                    options={
                        'db_table': 'campaigns_enrollment',
                        'verbose_name': 'enrollment',
                        'verbose_name_plural': 'enrollments',
                        'ordering': ['-enrolled_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='WorkflowStep',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.SlugField(help_text='A short name other steps use to go to this one.', max_length=40, verbose_name='key')),
                        ('order', models.PositiveSmallIntegerField(default=0, verbose_name='order')),
                        ('kind', models.CharField(choices=[('send_email', 'send an e-mail'), ('wait', 'wait'), ('branch', 'if / else'), ('update_contact', 'update the contact'), ('subscription', 'subscribe to / unsubscribe from a topic'), ('list', 'add to / remove from a static list'), ('notify_staff', 'notify staff by e-mail'), ('webhook', 'call a webhook'), ('goal', 'goal: leave if a condition is met'), ('end', 'end')], max_length=16, verbose_name='step')),
                        ('name', models.CharField(blank=True, max_length=120, verbose_name='label')),
                        ('next_key', models.SlugField(blank=True, help_text='The key of the next step; empty: the next one in order. On a branch: yes.', max_length=40, verbose_name='then go to')),
                        ('no_key', models.SlugField(blank=True, help_text='On a branch: the step when the condition is false; empty: the end.', max_length=40, verbose_name='otherwise go to')),
                        ('purpose', models.CharField(choices=[('newsletter', 'newsletter'), ('topic', 'topic bulletin')], default='newsletter', max_length=16, verbose_name='sent as')),
                        ('wait_mode', models.CharField(choices=[('duration', 'for a time'), ('weekday', 'until a day of the week and time'), ('date', 'until a date of the contact')], default='duration', max_length=10, verbose_name='wait')),
                        ('wait_days', models.IntegerField(default=0, verbose_name='days')),
                        ('wait_hours', models.PositiveIntegerField(default=0, verbose_name='hours')),
                        ('wait_minutes', models.PositiveIntegerField(default=0, verbose_name='minutes')),
                        ('wait_weekday', models.PositiveSmallIntegerField(blank=True, choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')], null=True, verbose_name='day of the week')),
                        ('wait_time', models.TimeField(blank=True, null=True, verbose_name='time of day (Madrid)')),
                        ('date_field', models.CharField(blank=True, help_text='"created_at" or the key of a date custom property.', max_length=80, verbose_name='date of the contact')),
                        ('branch_on', models.CharField(choices=[('rule', 'the contact matches a segment rule'), ('touchpoint', 'an interaction happened since enrolment')], default='rule', max_length=12, verbose_name='condition')),
                        ('rule', models.JSONField(blank=True, default=dict, verbose_name='segment rule')),
                        ('touchpoint_kind', models.CharField(blank=True, max_length=40, verbose_name='interaction')),
                        ('touchpoint_step_key', models.SlugField(blank=True, help_text='Optional: only interactions with the e-mail this step sent (e.g. a click).', max_length=40, verbose_name='about the e-mail of step')),
                        ('action', models.CharField(choices=[('add', 'add / subscribe'), ('remove', 'remove / unsubscribe')], default='add', max_length=8, verbose_name='action')),
                        ('tag', models.CharField(blank=True, max_length=64, verbose_name='tag')),
                        ('property_key', models.CharField(blank=True, max_length=64, verbose_name='custom property')),
                        ('property_value', models.CharField(blank=True, max_length=200, verbose_name='value')),
                        ('lifecycle', models.CharField(blank=True, choices=[('contact', 'contact'), ('subscriber', 'subscriber'), ('engaged', 'engaged'), ('advocate', 'advocate')], max_length=16, verbose_name='lifecycle stage')),
                        ('notify_emails', models.CharField(blank=True, help_text='Comma-separated addresses of active staff accounts.', max_length=500, verbose_name='staff addresses')),
                        ('notify_subject', models.CharField(blank=True, max_length=200, verbose_name='subject')),
                        ('webhook_url', models.URLField(blank=True, max_length=500, verbose_name='webhook URL')),
                        ('webhook_secret', models.CharField(blank=True, help_text='Shared with the receiving system, which checks X-Inbound-Signature: the time and an HMAC-SHA256 of the time and the body (docs/webhooks.md).', max_length=128, verbose_name='webhook secret')),
                        ('campaign', models.OneToOneField(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='workflow_step', to='campaigns.campaign')),
                        ('email', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='workflow_steps', to='campaigns.email', verbose_name='e-mail')),
                        ('segment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contacts.segment', verbose_name='static list')),
                        ('topic', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contacts.topic', verbose_name='topic')),
                        ('workflow', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='workflows.workflow')),
                    ],
                    options={
                        'db_table': 'campaigns_workflowstep',
                        'verbose_name': 'step',
                        'verbose_name_plural': 'steps',
                        'ordering': ['workflow', 'order', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='StepRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('seq', models.PositiveIntegerField()),
                        ('status', models.CharField(choices=[('passed', 'passed'), ('skipped', 'skipped'), ('failed', 'failed'), ('pending', 'waiting for an answer')], max_length=8, verbose_name='status')),
                        ('detail', models.CharField(blank=True, max_length=300, verbose_name='what happened')),
                        ('due_at', models.DateTimeField(verbose_name='due')),
                        ('ran_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='ran')),
                        ('enrollment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='runs', to='workflows.enrollment')),
                        ('step', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='runs', to='workflows.workflowstep')),
                    ],
                    options={
                        'db_table': 'campaigns_steprun',
                        'verbose_name': 'step run',
                        'verbose_name_plural': 'step runs',
                        'ordering': ['enrollment', 'seq'],
                    },
                ),
                migrations.AddField(
                    model_name='enrollment',
                    name='step',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='enrollments', to='workflows.workflowstep'),
                ),
                migrations.CreateModel(
                    name='WorkflowAction',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('webhook', 'webhook'), ('staff_email', 'e-mail to staff')], max_length=12)),
                        ('payload', models.JSONField(default=dict)),
                        ('status', models.CharField(choices=[('pending', 'pending'), ('done', 'done'), ('failed', 'failed'), ('cancelled', 'cancelled')], default='pending', max_length=10)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('claimed_until', models.DateTimeField(blank=True, null=True)),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('done_at', models.DateTimeField(blank=True, null=True)),
                        ('run', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='action', to='workflows.steprun')),
                    ],
                    options={
                        'db_table': 'campaigns_workflowaction',
                        'verbose_name': 'workflow action',
                        'verbose_name_plural': 'workflow actions',
                        'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at'], name='workflowaction_due_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='WorkflowSegmentMember',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contacts.contact')),
                        ('workflow', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workflows.workflow')),
                    ],
                    options={
                        'db_table': 'campaigns_workflowsegmentmember',
                        'constraints': [models.UniqueConstraint(fields=('workflow', 'contact'), name='workflowsegmember_uniq')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='workflowstep',
                    constraint=models.UniqueConstraint(fields=('workflow', 'key'), name='workflowstep_key_uniq'),
                ),
                migrations.AddIndex(
                    model_name='steprun',
                    index=models.Index(fields=['step', 'status'], name='steprun_step_idx'),
                ),
                migrations.AddConstraint(
                    model_name='steprun',
                    constraint=models.UniqueConstraint(fields=('enrollment', 'seq'), name='steprun_uniq'),
                ),
                migrations.AddIndex(
                    model_name='enrollment',
                    index=models.Index(condition=models.Q(('status', 'active')), fields=['next_run_at'], name='enrollment_due_idx'),
                ),
                migrations.AddIndex(
                    model_name='enrollment',
                    index=models.Index(fields=['workflow', 'status', 'step'], name='enrollment_step_idx'),
                ),
                migrations.AddConstraint(
                    model_name='enrollment',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'active'), ('test', False)), fields=('workflow', 'contact'), name='enrollment_one_active'),
                ),
                migrations.AddConstraint(
                    model_name='enrollment',
                    constraint=models.UniqueConstraint(condition=models.Q(('trigger_key', ''), _negated=True), fields=('workflow', 'contact', 'trigger_key'), name='enrollment_trigger_once'),
                ),
            ],
            database_operations=[],
        ),
    ]
