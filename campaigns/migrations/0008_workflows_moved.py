"""Automated workflows moved to the `workflows` app (its 0001 took their state; 0002 renames
the tables): `campaigns` forgets the six models without touching a row, and a delivery's step
run now points at `workflows.StepRun`, on the same table and column."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0007_webhook_secret_help_timestamped'),
        ('workflows', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='delivery',
                    name='step_run',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='delivery', to='workflows.steprun'),
                ),
                migrations.RemoveField(
                    model_name='enrollment',
                    name='contact',
                ),
                migrations.RemoveField(
                    model_name='enrollment',
                    name='enrolled_by',
                ),
                migrations.RemoveField(
                    model_name='enrollment',
                    name='step',
                ),
                migrations.RemoveField(
                    model_name='enrollment',
                    name='workflow',
                ),
                migrations.RemoveField(
                    model_name='steprun',
                    name='enrollment',
                ),
                migrations.RemoveField(
                    model_name='steprun',
                    name='step',
                ),
                migrations.RemoveField(
                    model_name='workflowaction',
                    name='run',
                ),
                migrations.RemoveField(
                    model_name='workflow',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='workflow',
                    name='trigger_segment',
                ),
                migrations.RemoveField(
                    model_name='workflow',
                    name='trigger_subject_type',
                ),
                migrations.RemoveField(
                    model_name='workflowsegmentmember',
                    name='workflow',
                ),
                migrations.RemoveField(
                    model_name='workflowstep',
                    name='workflow',
                ),
                migrations.RemoveField(
                    model_name='workflowsegmentmember',
                    name='contact',
                ),
                migrations.RemoveField(
                    model_name='workflowstep',
                    name='campaign',
                ),
                migrations.RemoveField(
                    model_name='workflowstep',
                    name='email',
                ),
                migrations.RemoveField(
                    model_name='workflowstep',
                    name='segment',
                ),
                migrations.RemoveField(
                    model_name='workflowstep',
                    name='topic',
                ),
                migrations.DeleteModel(
                    name='Enrollment',
                ),
                migrations.DeleteModel(
                    name='StepRun',
                ),
                migrations.DeleteModel(
                    name='WorkflowAction',
                ),
                migrations.DeleteModel(
                    name='Workflow',
                ),
                migrations.DeleteModel(
                    name='WorkflowSegmentMember',
                ),
                migrations.DeleteModel(
                    name='WorkflowStep',
                ),
            ],
            database_operations=[],
        ),
    ]
