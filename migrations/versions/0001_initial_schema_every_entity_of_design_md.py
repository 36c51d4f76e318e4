"""initial schema: every entity of DESIGN.md

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 09:29:55.003555

"""
from alembic import op
import sqlalchemy as sa

# The systems table points at its current records; those tables point back at systems. On databases
# that can ALTER, these foreign keys are added after every table exists (SQLite takes them inline).
CURRENT_POINTERS = [('current_approval_id', 'approvals', 'fk_systems_current_approval_id_approvals'), ('current_classification_id', 'classifications', 'fk_systems_current_classification_id_classifications'), ('current_dpia_id', 'dpias', 'fk_systems_current_dpia_id_dpias'), ('current_risk_analysis_id', 'risk_analyses', 'fk_systems_current_risk_analysis_id_risk_analyses'), ('current_screening_id', 'dpia_screenings', 'fk_systems_current_screening_id_dpia_screenings'), ('current_sla_id', 'slas', 'fk_systems_current_sla_id_slas'), ('open_request_id', 'approval_requests', 'fk_systems_open_request_id_approval_requests')]


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mappings')),
    sa.UniqueConstraint('source', name=op.f('uq_import_mappings_source'))
    )
    op.create_table('import_settings',
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_import_settings'))
    )
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_client_address'), ['client_address'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_email'), ['email'], unique=False)

    op.create_table('org_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('name', name=op.f('uq_org_units_name'))
    )
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('reference_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_reference_counters'))
    )
    op.create_table('reminder_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=40), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_logs'))
    )
    with op.batch_alter_table('reminder_logs', schema=None) as batch_op:
        batch_op.create_index('uq_reminder_logs_once', ['kind', 'entity', 'entity_id', 'period_key', 'recipient'], unique=True)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_users_org_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_entity_entity_id', ['entity', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)

    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_kind', sa.String(length=10), nullable=False),
    sa.Column('encoding', sa.String(length=30), nullable=True),
    sa.Column('delimiter', sa.String(length=5), nullable=True),
    sa.Column('sheet', sa.String(length=100), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('matching', 'ready', 'applying', 'applied', 'undoing', 'undone', 'failed', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_import_batches_applied_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_import_batches_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'], name=op.f('fk_import_batches_undone_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batches_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batches_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batches_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batches_status'), ['status'], unique=False)

    op.create_table('pdf_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result', sa.LargeBinary(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('running', 'done', 'failed')", name=op.f('ck_pdf_jobs_status_code')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_pdf_jobs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdf_jobs'))
    )
    with op.batch_alter_table('pdf_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdf_jobs_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('systems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('search_key', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('system_owner_id', sa.Integer(), nullable=True),
    sa.Column('risk_owner_id', sa.Integer(), nullable=True),
    sa.Column('supplier', sa.String(length=200), nullable=True),
    sa.Column('hosting', sa.Enum('own_datacentre', 'external_operations', 'saas', name='hosting', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('lifecycle', sa.Enum('planned', 'in_operation', 'being_decommissioned', 'decommissioned', name='lifecycle', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('criticality', sa.Enum('A', 'B', 'C', 'D', name='criticality', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('priority_list', sa.Boolean(), nullable=False),
    sa.Column('personal_data', sa.Enum('yes', 'no', 'unknown', name='personal_data', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('special_categories', sa.Boolean(), nullable=False),
    sa.Column('major_change_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_classification_id', sa.Integer(), nullable=True),
    sa.Column('current_risk_analysis_id', sa.Integer(), nullable=True),
    sa.Column('current_screening_id', sa.Integer(), nullable=True),
    sa.Column('current_dpia_id', sa.Integer(), nullable=True),
    sa.Column('current_sla_id', sa.Integer(), nullable=True),
    sa.Column('current_approval_id', sa.Integer(), nullable=True),
    sa.Column('open_request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['current_approval_id'], ['approvals.id'], name=op.f('fk_systems_current_approval_id_approvals'), use_alter=True),
    sa.ForeignKeyConstraint(['current_classification_id'], ['classifications.id'], name=op.f('fk_systems_current_classification_id_classifications'), use_alter=True),
    sa.ForeignKeyConstraint(['current_dpia_id'], ['dpias.id'], name=op.f('fk_systems_current_dpia_id_dpias'), use_alter=True),
    sa.ForeignKeyConstraint(['current_risk_analysis_id'], ['risk_analyses.id'], name=op.f('fk_systems_current_risk_analysis_id_risk_analyses'), use_alter=True),
    sa.ForeignKeyConstraint(['current_screening_id'], ['dpia_screenings.id'], name=op.f('fk_systems_current_screening_id_dpia_screenings'), use_alter=True),
    sa.ForeignKeyConstraint(['current_sla_id'], ['slas.id'], name=op.f('fk_systems_current_sla_id_slas'), use_alter=True),
    sa.ForeignKeyConstraint(['open_request_id'], ['approval_requests.id'], name=op.f('fk_systems_open_request_id_approval_requests'), use_alter=True),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_systems_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['risk_owner_id'], ['users.id'], name=op.f('fk_systems_risk_owner_id_users')),
    sa.ForeignKeyConstraint(['system_owner_id'], ['users.id'], name=op.f('fk_systems_system_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_systems'))
    )
    with op.batch_alter_table('systems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_systems_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_criticality'), ['criticality'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_current_approval_id'), ['current_approval_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_current_classification_id'), ['current_classification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_current_dpia_id'), ['current_dpia_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_current_risk_analysis_id'), ['current_risk_analysis_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_current_screening_id'), ['current_screening_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_current_sla_id'), ['current_sla_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_lifecycle'), ['lifecycle'], unique=False)
        batch_op.create_index('ix_systems_lifecycle_org_unit', ['lifecycle', 'org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_open_request_id'), ['open_request_id'], unique=False)
        batch_op.create_index('ix_systems_org_unit_criticality', ['org_unit_id', 'criticality'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_priority_list'), ['priority_list'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_risk_owner_id'), ['risk_owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_search_key'), ['search_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_systems_system_owner_id'), ['system_owner_id'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('system_owner', 'risk_owner', 'ciso', 'dpo', 'admin', 'auditor', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_roles_role'), ['role'], unique=False)

    op.create_table('classifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'final', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('confidentiality', sa.Integer(), nullable=False),
    sa.Column('integrity', sa.Integer(), nullable=False),
    sa.Column('availability', sa.Integer(), nullable=False),
    sa.Column('declared_confidentiality', sa.Integer(), nullable=False),
    sa.Column('declared_integrity', sa.Integer(), nullable=False),
    sa.Column('declared_availability', sa.Integer(), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('confidentiality_motivation', sa.Text(), nullable=False),
    sa.Column('integrity_motivation', sa.Text(), nullable=False),
    sa.Column('availability_motivation', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finalised_by_id', sa.Integer(), nullable=True),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'final') = (finalised_at IS NOT NULL)", name=op.f('ck_classifications_final_has_finalised_at')),
    sa.CheckConstraint('availability BETWEEN 0 AND 4', name=op.f('ck_classifications_availability_range')),
    sa.CheckConstraint('confidentiality BETWEEN 0 AND 4', name=op.f('ck_classifications_confidentiality_range')),
    sa.CheckConstraint('declared_availability BETWEEN 0 AND 4', name=op.f('ck_classifications_declared_availability_range')),
    sa.CheckConstraint('declared_confidentiality BETWEEN 0 AND 4', name=op.f('ck_classifications_declared_confidentiality_range')),
    sa.CheckConstraint('declared_integrity BETWEEN 0 AND 4', name=op.f('ck_classifications_declared_integrity_range')),
    sa.CheckConstraint('integrity BETWEEN 0 AND 4', name=op.f('ck_classifications_integrity_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_classifications_created_by_id_users')),
    sa.ForeignKeyConstraint(['finalised_by_id'], ['users.id'], name=op.f('fk_classifications_finalised_by_id_users')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_classifications_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classifications')),
    sa.UniqueConstraint('system_id', 'number', name=op.f('uq_classifications_system_id_number'))
    )
    with op.batch_alter_table('classifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classifications_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_classifications_finalised_at'), ['finalised_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_classifications_finalised_by_id'), ['finalised_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_classifications_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_classifications_system_id'), ['system_id'], unique=False)

    op.create_table('dpia_screenings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('require_anyway', sa.Boolean(), nullable=False),
    sa.Column('dpia_required', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dpia_screenings_created_by_id_users')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_dpia_screenings_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dpia_screenings'))
    )
    with op.batch_alter_table('dpia_screenings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dpia_screenings_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dpia_screenings_system_id'), ['system_id'], unique=False)

    op.create_table('external_refs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_external_refs_system_id_systems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_refs')),
    sa.UniqueConstraint('source', 'key', name=op.f('uq_external_refs_source_key'))
    )
    with op.batch_alter_table('external_refs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_refs_system_id'), ['system_id'], unique=False)

    op.create_table('import_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('duplicates_in_batch', sa.JSON(), nullable=False),
    sa.Column('suggestion_action', sa.Enum('merge', 'create', 'skip', name='suggestion_action', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('suggestion_system_id', sa.Integer(), nullable=True),
    sa.Column('suggestion_row_id', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.String(length=20), nullable=True),
    sa.Column('decision_action', sa.Enum('merge', 'create', 'skip', name='decision_action', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('decision_system_id', sa.Integer(), nullable=True),
    sa.Column('field_choices', sa.JSON(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applied_action', sa.Enum('merge', 'create', 'skip', name='applied_action', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('applied_system_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_rows_batch_id_import_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_import_rows_decided_by_id_users')),
    sa.ForeignKeyConstraint(['decision_system_id'], ['systems.id'], name=op.f('fk_import_rows_decision_system_id_systems'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_system_id'], ['systems.id'], name=op.f('fk_import_rows_suggestion_system_id_systems'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rows')),
    sa.UniqueConstraint('batch_id', 'row_number', name=op.f('uq_import_rows_batch_id_row_number'))
    )
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_rows_applied_system_id'), ['applied_system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_rows_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_rows_confidence'), ['confidence'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_rows_suggestion_action'), ['suggestion_action'], unique=False)

    op.create_table('major_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_major_changes_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_major_changes_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_major_changes'))
    )
    with op.batch_alter_table('major_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_major_changes_recorded_by_id'), ['recorded_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_major_changes_system_id'), ['system_id'], unique=False)

    op.create_table('search_grams',
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('gram', sa.String(length=3), nullable=False),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_search_grams_system_id_systems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('system_id', 'gram', name=op.f('pk_search_grams'))
    )
    with op.batch_alter_table('search_grams', schema=None) as batch_op:
        batch_op.create_index('ix_search_grams_gram_system', ['gram', 'system_id'], unique=False)

    op.create_table('slas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=False),
    sa.Column('agreement_ref', sa.String(length=200), nullable=False),
    sa.Column('availability_target', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('service_hours', sa.Text(), nullable=False),
    sa.Column('rto_hours', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('rpo_hours', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('availability_target > 0 AND availability_target <= 100', name=op.f('ck_slas_target_range')),
    sa.CheckConstraint('rpo_hours IS NULL OR rpo_hours >= 0', name=op.f('ck_slas_rpo_nonnegative')),
    sa.CheckConstraint('rto_hours IS NULL OR rto_hours >= 0', name=op.f('ck_slas_rto_nonnegative')),
    sa.CheckConstraint('valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from', name=op.f('ck_slas_validity_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_slas_created_by_id_users')),
    sa.ForeignKeyConstraint(['replaces_id'], ['slas.id'], name=op.f('fk_slas_replaces_id_slas')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_slas_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slas'))
    )
    with op.batch_alter_table('slas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slas_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_slas_system_id'), ['system_id'], unique=False)

    op.create_table('system_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('search_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_system_aliases_system_id_systems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_system_aliases')),
    sa.UniqueConstraint('system_id', 'name', name=op.f('uq_system_aliases_system_id_name'))
    )
    with op.batch_alter_table('system_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_system_aliases_search_key'), ['search_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_system_aliases_system_id'), ['system_id'], unique=False)

    op.create_table('dpias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'final', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('purposes', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('necessity', sa.Text(), nullable=False),
    sa.Column('risks', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('high_residual_risk', sa.Boolean(), nullable=False),
    sa.Column('prior_consultation_required', sa.Boolean(), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('opinion_by_id', sa.Integer(), nullable=True),
    sa.Column('opinion_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finalised_by_id', sa.Integer(), nullable=True),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'final') = (finalised_at IS NOT NULL)", name=op.f('ck_dpias_final_has_finalised_at')),
    sa.CheckConstraint("status = 'draft' OR opinion IS NOT NULL", name=op.f('ck_dpias_final_has_opinion')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dpias_created_by_id_users')),
    sa.ForeignKeyConstraint(['finalised_by_id'], ['users.id'], name=op.f('fk_dpias_finalised_by_id_users')),
    sa.ForeignKeyConstraint(['opinion_by_id'], ['users.id'], name=op.f('fk_dpias_opinion_by_id_users')),
    sa.ForeignKeyConstraint(['screening_id'], ['dpia_screenings.id'], name=op.f('fk_dpias_screening_id_dpia_screenings')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_dpias_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dpias'))
    )
    with op.batch_alter_table('dpias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dpias_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dpias_finalised_by_id'), ['finalised_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dpias_opinion_by_id'), ['opinion_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dpias_screening_id'), ['screening_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dpias_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_dpias_system_id'), ['system_id'], unique=False)

    op.create_table('information_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('classification_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('confidentiality', sa.Integer(), nullable=False),
    sa.Column('integrity', sa.Integer(), nullable=False),
    sa.Column('availability', sa.Integer(), nullable=False),
    sa.CheckConstraint('availability BETWEEN 0 AND 4', name=op.f('ck_classifications_availability_range')),
    sa.CheckConstraint('confidentiality BETWEEN 0 AND 4', name=op.f('ck_classifications_confidentiality_range')),
    sa.CheckConstraint('integrity BETWEEN 0 AND 4', name=op.f('ck_classifications_integrity_range')),
    sa.ForeignKeyConstraint(['classification_id'], ['classifications.id'], name=op.f('fk_information_sets_classification_id_classifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_information_sets'))
    )
    with op.batch_alter_table('information_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_information_sets_classification_id'), ['classification_id'], unique=False)

    op.create_table('risk_analyses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'final', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('analysed_on', sa.Date(), nullable=False),
    sa.Column('participants', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('classification_id', sa.Integer(), nullable=True),
    sa.Column('copied_from_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finalised_by_id', sa.Integer(), nullable=True),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'final') = (finalised_at IS NOT NULL)", name=op.f('ck_risk_analyses_final_has_finalised_at')),
    sa.ForeignKeyConstraint(['classification_id'], ['classifications.id'], name=op.f('fk_risk_analyses_classification_id_classifications')),
    sa.ForeignKeyConstraint(['copied_from_id'], ['risk_analyses.id'], name=op.f('fk_risk_analyses_copied_from_id_risk_analyses')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_risk_analyses_created_by_id_users')),
    sa.ForeignKeyConstraint(['finalised_by_id'], ['users.id'], name=op.f('fk_risk_analyses_finalised_by_id_users')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_risk_analyses_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_analyses')),
    sa.UniqueConstraint('system_id', 'number', name=op.f('uq_risk_analyses_system_id_number'))
    )
    with op.batch_alter_table('risk_analyses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_analyses_classification_id'), ['classification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_analyses_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_analyses_finalised_at'), ['finalised_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_analyses_finalised_by_id'), ['finalised_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_analyses_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_analyses_system_id'), ['system_id'], unique=False)

    op.create_table('screening_criteria',
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.Enum('evaluation_scoring', 'automated_decision', 'systematic_monitoring', 'sensitive_data', 'large_scale', 'matching_datasets', 'vulnerable_subjects', 'innovative_technology', 'prevents_rights', name='criterion', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['screening_id'], ['dpia_screenings.id'], name=op.f('fk_screening_criteria_screening_id_dpia_screenings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('screening_id', 'criterion', name=op.f('pk_screening_criteria'))
    )
    op.create_table('sla_measurements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sla_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('availability', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('downtime_minutes', sa.Integer(), nullable=True),
    sa.Column('target', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('availability >= 0 AND availability <= 100', name=op.f('ck_sla_measurements_availability_range')),
    sa.CheckConstraint('downtime_minutes IS NULL OR downtime_minutes >= 0', name=op.f('ck_sla_measurements_downtime_nonnegative')),
    sa.CheckConstraint('target IS NOT NULL', name=op.f('ck_sla_measurements_target_present')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sla_measurements_created_by_id_users')),
    sa.ForeignKeyConstraint(['sla_id'], ['slas.id'], name=op.f('fk_sla_measurements_sla_id_slas')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_sla_measurements_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_measurements')),
    sa.UniqueConstraint('sla_id', 'period', name=op.f('uq_sla_measurements_sla_id_period'))
    )
    with op.batch_alter_table('sla_measurements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_measurements_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_measurements_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_measurements_sla_id'), ['sla_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_measurements_system_id'), ['system_id'], unique=False)

    op.create_table('approval_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'decided', 'withdrawn', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('classification_id', sa.Integer(), nullable=True),
    sa.Column('risk_analysis_id', sa.Integer(), nullable=True),
    sa.Column('screening_id', sa.Integer(), nullable=True),
    sa.Column('dpia_id', sa.Integer(), nullable=True),
    sa.Column('sla_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['classification_id'], ['classifications.id'], name=op.f('fk_approval_requests_classification_id_classifications')),
    sa.ForeignKeyConstraint(['dpia_id'], ['dpias.id'], name=op.f('fk_approval_requests_dpia_id_dpias')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_approval_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['risk_analysis_id'], ['risk_analyses.id'], name=op.f('fk_approval_requests_risk_analysis_id_risk_analyses')),
    sa.ForeignKeyConstraint(['screening_id'], ['dpia_screenings.id'], name=op.f('fk_approval_requests_screening_id_dpia_screenings')),
    sa.ForeignKeyConstraint(['sla_id'], ['slas.id'], name=op.f('fk_approval_requests_sla_id_slas')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_approval_requests_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests'))
    )
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_requests_requested_at'), ['requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_requests_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_requests_system_id'), ['system_id'], unique=False)

    op.create_table('risks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('aspect', sa.Enum('K', 'R', 'T', name='aspect', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('consequence', sa.Integer(), nullable=False),
    sa.Column('existing_protection', sa.Text(), nullable=False),
    sa.Column('treatment', sa.Enum('reduce', 'avoid', 'transfer', 'accept', name='treatment', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('residual_likelihood', sa.Integer(), nullable=True),
    sa.Column('residual_consequence', sa.Integer(), nullable=True),
    sa.CheckConstraint('(residual_likelihood IS NULL) = (residual_consequence IS NULL)', name=op.f('ck_risks_residual_both_or_neither')),
    sa.CheckConstraint('consequence BETWEEN 1 AND 4', name=op.f('ck_risks_consequence_range')),
    sa.CheckConstraint('likelihood BETWEEN 1 AND 4', name=op.f('ck_risks_likelihood_range')),
    sa.CheckConstraint('residual_consequence IS NULL OR residual_consequence BETWEEN 1 AND 4', name=op.f('ck_risks_residual_consequence_range')),
    sa.CheckConstraint('residual_likelihood IS NULL OR residual_likelihood BETWEEN 1 AND 4', name=op.f('ck_risks_residual_likelihood_range')),
    sa.ForeignKeyConstraint(['analysis_id'], ['risk_analyses.id'], name=op.f('fk_risks_analysis_id_risk_analyses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risks'))
    )
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risks_analysis_id'), ['analysis_id'], unique=False)

    op.create_table('approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('approved', 'approved_with_conditions', 'rejected', name='decision', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('classification_id', sa.Integer(), nullable=False),
    sa.Column('confidentiality', sa.Integer(), nullable=False),
    sa.Column('integrity', sa.Integer(), nullable=False),
    sa.Column('availability', sa.Integer(), nullable=False),
    sa.Column('risk_analysis_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('dpia_id', sa.Integer(), nullable=True),
    sa.Column('sla_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("decision = 'rejected' OR valid_until IS NOT NULL", name=op.f('ck_approvals_approval_has_validity')),
    sa.CheckConstraint('availability BETWEEN 0 AND 4', name=op.f('ck_approvals_availability_range')),
    sa.CheckConstraint('confidentiality BETWEEN 0 AND 4', name=op.f('ck_approvals_confidentiality_range')),
    sa.CheckConstraint('integrity BETWEEN 0 AND 4', name=op.f('ck_approvals_integrity_range')),
    sa.ForeignKeyConstraint(['classification_id'], ['classifications.id'], name=op.f('fk_approvals_classification_id_classifications')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_approvals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['dpia_id'], ['dpias.id'], name=op.f('fk_approvals_dpia_id_dpias')),
    sa.ForeignKeyConstraint(['request_id'], ['approval_requests.id'], name=op.f('fk_approvals_request_id_approval_requests')),
    sa.ForeignKeyConstraint(['risk_analysis_id'], ['risk_analyses.id'], name=op.f('fk_approvals_risk_analysis_id_risk_analyses')),
    sa.ForeignKeyConstraint(['screening_id'], ['dpia_screenings.id'], name=op.f('fk_approvals_screening_id_dpia_screenings')),
    sa.ForeignKeyConstraint(['sla_id'], ['slas.id'], name=op.f('fk_approvals_sla_id_slas')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_approvals_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    sa.UniqueConstraint('reference', name=op.f('uq_approvals_reference')),
    sa.UniqueConstraint('year', 'sequence', name=op.f('uq_approvals_year_sequence'))
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_classification_id'), ['classification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_decided_by_id'), ['decided_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_decision'), ['decision'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_dpia_id'), ['dpia_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_risk_analysis_id'), ['risk_analysis_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_screening_id'), ['screening_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_sla_id'), ['sla_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_system_id'), ['system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_valid_until'), ['valid_until'], unique=False)

    op.create_table('risk_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'cancelled', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_risk_actions_responsible_id_users')),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_actions_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_actions'))
    )
    with op.batch_alter_table('risk_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_actions_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_actions_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_actions_risk_id'), ['risk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_actions_status'), ['status'], unique=False)

    op.create_table('accepted_risks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_accepted_risks_approval_id_approvals')),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_accepted_risks_risk_id_risks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accepted_risks')),
    sa.UniqueConstraint('approval_id', 'risk_id', name=op.f('uq_accepted_risks_approval_id_risk_id'))
    )
    with op.batch_alter_table('accepted_risks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accepted_risks_approval_id'), ['approval_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accepted_risks_risk_id'), ['risk_id'], unique=False)

    op.create_table('action_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('planned', 'in_progress', 'done', 'cancelled', name='from_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('to_status', sa.Enum('planned', 'in_progress', 'done', 'cancelled', name='to_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['risk_actions.id'], name=op.f('fk_action_status_changes_action_id_risk_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_action_status_changes_changed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_status_changes'))
    )
    with op.batch_alter_table('action_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_status_changes_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_status_changes_changed_by_id'), ['changed_by_id'], unique=False)

    op.create_table('approval_conditions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'fulfilled', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('fulfilled_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'fulfilled') = (fulfilled_on IS NOT NULL)", name=op.f('ck_approval_conditions_fulfilled_has_date')),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_approval_conditions_approval_id_approvals')),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_approval_conditions_responsible_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_conditions'))
    )
    with op.batch_alter_table('approval_conditions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_conditions_approval_id'), ['approval_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_conditions_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_conditions_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_conditions_status'), ['status'], unique=False)

    op.create_table('approval_revocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('revoked_by_id', sa.Integer(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_approval_revocations_approval_id_approvals')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_approval_revocations_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_revocations')),
    sa.UniqueConstraint('approval_id', name=op.f('uq_approval_revocations_approval_id'))
    )
    with op.batch_alter_table('approval_revocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_revocations_revoked_by_id'), ['revoked_by_id'], unique=False)

    op.create_table('decommissioning_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=True),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('disposition', sa.Enum('archived', 'transferred', 'deleted', name='disposition', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('target_system_id', sa.Integer(), nullable=True),
    sa.Column('retention_decision', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'done', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'done') = (completed_at IS NOT NULL)", name=op.f('ck_decommissioning_plans_done_has_completed_at')),
    sa.CheckConstraint("disposition <> 'transferred' OR target_system_id IS NOT NULL", name=op.f('ck_decommissioning_plans_transfer_has_target')),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_decommissioning_plans_approval_id_approvals')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_decommissioning_plans_created_by_id_users')),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_decommissioning_plans_responsible_id_users')),
    sa.ForeignKeyConstraint(['system_id'], ['systems.id'], name=op.f('fk_decommissioning_plans_system_id_systems')),
    sa.ForeignKeyConstraint(['target_system_id'], ['systems.id'], name=op.f('fk_decommissioning_plans_target_system_id_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decommissioning_plans'))
    )
    with op.batch_alter_table('decommissioning_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decommissioning_plans_approval_id'), ['approval_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decommissioning_plans_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decommissioning_plans_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decommissioning_plans_system_id'), ['system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decommissioning_plans_target_system_id'), ['target_system_id'], unique=False)


    if op.get_bind().dialect.name != "sqlite":
        for column, target, name in CURRENT_POINTERS:
            op.create_foreign_key(name, "systems", target, [column], ["id"])
    _immutability_triggers()


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION riskreg_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION riskreg_refuse_final_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'final' THEN
        RAISE EXCEPTION '% of a finalised row in % is refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION riskreg_refuse_change();
CREATE TRIGGER approvals_immutable BEFORE UPDATE OR DELETE ON approvals
    FOR EACH ROW EXECUTE FUNCTION riskreg_refuse_change();
CREATE TRIGGER approval_revocations_immutable BEFORE UPDATE OR DELETE ON approval_revocations
    FOR EACH ROW EXECUTE FUNCTION riskreg_refuse_change();
CREATE TRIGGER classifications_final_immutable BEFORE UPDATE OR DELETE ON classifications
    FOR EACH ROW EXECUTE FUNCTION riskreg_refuse_final_change();
CREATE TRIGGER risk_analyses_final_immutable BEFORE UPDATE OR DELETE ON risk_analyses
    FOR EACH ROW EXECUTE FUNCTION riskreg_refuse_final_change();
"""
TRIGGERS = [("audit_events_append_only", "audit_events"), ("approvals_immutable", "approvals"),
            ("approval_revocations_immutable", "approval_revocations"),
            ("classifications_final_immutable", "classifications"),
            ("risk_analyses_final_immutable", "risk_analyses")]


def _immutability_triggers():
    """On PostgreSQL, triggers refuse UPDATE/DELETE of audit events and decisions, and of finalised
    classifications and risk analyses (the services refuse too; this holds against any other client)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS riskreg_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS riskreg_refuse_final_change()")
    if op.get_bind().dialect.name != "sqlite":
        for column, target, name in CURRENT_POINTERS:
            op.drop_constraint(name, "systems", type_="foreignkey")
    with op.batch_alter_table('decommissioning_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decommissioning_plans_target_system_id'))
        batch_op.drop_index(batch_op.f('ix_decommissioning_plans_system_id'))
        batch_op.drop_index(batch_op.f('ix_decommissioning_plans_responsible_id'))
        batch_op.drop_index(batch_op.f('ix_decommissioning_plans_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_decommissioning_plans_approval_id'))

    op.drop_table('decommissioning_plans')
    with op.batch_alter_table('approval_revocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_revocations_revoked_by_id'))

    op.drop_table('approval_revocations')
    with op.batch_alter_table('approval_conditions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_conditions_status'))
        batch_op.drop_index(batch_op.f('ix_approval_conditions_responsible_id'))
        batch_op.drop_index(batch_op.f('ix_approval_conditions_due_on'))
        batch_op.drop_index(batch_op.f('ix_approval_conditions_approval_id'))

    op.drop_table('approval_conditions')
    with op.batch_alter_table('action_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_status_changes_changed_by_id'))
        batch_op.drop_index(batch_op.f('ix_action_status_changes_action_id'))

    op.drop_table('action_status_changes')
    with op.batch_alter_table('accepted_risks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accepted_risks_risk_id'))
        batch_op.drop_index(batch_op.f('ix_accepted_risks_approval_id'))

    op.drop_table('accepted_risks')
    with op.batch_alter_table('risk_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_actions_status'))
        batch_op.drop_index(batch_op.f('ix_risk_actions_risk_id'))
        batch_op.drop_index(batch_op.f('ix_risk_actions_responsible_id'))
        batch_op.drop_index(batch_op.f('ix_risk_actions_due_on'))

    op.drop_table('risk_actions')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_valid_until'))
        batch_op.drop_index(batch_op.f('ix_approvals_system_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_sla_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_screening_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_risk_analysis_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_request_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_dpia_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_decision'))
        batch_op.drop_index(batch_op.f('ix_approvals_decided_by_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_decided_at'))
        batch_op.drop_index(batch_op.f('ix_approvals_classification_id'))

    op.drop_table('approvals')
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risks_analysis_id'))

    op.drop_table('risks')
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_requests_system_id'))
        batch_op.drop_index(batch_op.f('ix_approval_requests_status'))
        batch_op.drop_index(batch_op.f('ix_approval_requests_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_approval_requests_requested_at'))

    op.drop_table('approval_requests')
    with op.batch_alter_table('sla_measurements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_measurements_system_id'))
        batch_op.drop_index(batch_op.f('ix_sla_measurements_sla_id'))
        batch_op.drop_index(batch_op.f('ix_sla_measurements_period'))
        batch_op.drop_index(batch_op.f('ix_sla_measurements_created_by_id'))

    op.drop_table('sla_measurements')
    op.drop_table('screening_criteria')
    with op.batch_alter_table('risk_analyses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_analyses_system_id'))
        batch_op.drop_index(batch_op.f('ix_risk_analyses_status'))
        batch_op.drop_index(batch_op.f('ix_risk_analyses_finalised_by_id'))
        batch_op.drop_index(batch_op.f('ix_risk_analyses_finalised_at'))
        batch_op.drop_index(batch_op.f('ix_risk_analyses_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_risk_analyses_classification_id'))

    op.drop_table('risk_analyses')
    with op.batch_alter_table('information_sets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_information_sets_classification_id'))

    op.drop_table('information_sets')
    with op.batch_alter_table('dpias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dpias_system_id'))
        batch_op.drop_index(batch_op.f('ix_dpias_status'))
        batch_op.drop_index(batch_op.f('ix_dpias_screening_id'))
        batch_op.drop_index(batch_op.f('ix_dpias_opinion_by_id'))
        batch_op.drop_index(batch_op.f('ix_dpias_finalised_by_id'))
        batch_op.drop_index(batch_op.f('ix_dpias_created_by_id'))

    op.drop_table('dpias')
    with op.batch_alter_table('system_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_system_aliases_system_id'))
        batch_op.drop_index(batch_op.f('ix_system_aliases_search_key'))

    op.drop_table('system_aliases')
    with op.batch_alter_table('slas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slas_system_id'))
        batch_op.drop_index(batch_op.f('ix_slas_created_by_id'))

    op.drop_table('slas')
    with op.batch_alter_table('search_grams', schema=None) as batch_op:
        batch_op.drop_index('ix_search_grams_gram_system')

    op.drop_table('search_grams')
    with op.batch_alter_table('major_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_major_changes_system_id'))
        batch_op.drop_index(batch_op.f('ix_major_changes_recorded_by_id'))

    op.drop_table('major_changes')
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_rows_suggestion_action'))
        batch_op.drop_index(batch_op.f('ix_import_rows_confidence'))
        batch_op.drop_index(batch_op.f('ix_import_rows_batch_id'))
        batch_op.drop_index(batch_op.f('ix_import_rows_applied_system_id'))

    op.drop_table('import_rows')
    with op.batch_alter_table('external_refs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_refs_system_id'))

    op.drop_table('external_refs')
    with op.batch_alter_table('dpia_screenings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dpia_screenings_system_id'))
        batch_op.drop_index(batch_op.f('ix_dpia_screenings_created_by_id'))

    op.drop_table('dpia_screenings')
    with op.batch_alter_table('classifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classifications_system_id'))
        batch_op.drop_index(batch_op.f('ix_classifications_status'))
        batch_op.drop_index(batch_op.f('ix_classifications_finalised_by_id'))
        batch_op.drop_index(batch_op.f('ix_classifications_finalised_at'))
        batch_op.drop_index(batch_op.f('ix_classifications_created_by_id'))

    op.drop_table('classifications')
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_roles_role'))

    op.drop_table('user_roles')
    with op.batch_alter_table('systems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_systems_system_owner_id'))
        batch_op.drop_index(batch_op.f('ix_systems_search_key'))
        batch_op.drop_index(batch_op.f('ix_systems_risk_owner_id'))
        batch_op.drop_index(batch_op.f('ix_systems_priority_list'))
        batch_op.drop_index(batch_op.f('ix_systems_org_unit_id'))
        batch_op.drop_index('ix_systems_org_unit_criticality')
        batch_op.drop_index(batch_op.f('ix_systems_open_request_id'))
        batch_op.drop_index(batch_op.f('ix_systems_name'))
        batch_op.drop_index('ix_systems_lifecycle_org_unit')
        batch_op.drop_index(batch_op.f('ix_systems_lifecycle'))
        batch_op.drop_index(batch_op.f('ix_systems_current_sla_id'))
        batch_op.drop_index(batch_op.f('ix_systems_current_screening_id'))
        batch_op.drop_index(batch_op.f('ix_systems_current_risk_analysis_id'))
        batch_op.drop_index(batch_op.f('ix_systems_current_dpia_id'))
        batch_op.drop_index(batch_op.f('ix_systems_current_classification_id'))
        batch_op.drop_index(batch_op.f('ix_systems_current_approval_id'))
        batch_op.drop_index(batch_op.f('ix_systems_criticality'))
        batch_op.drop_index(batch_op.f('ix_systems_created_at'))

    op.drop_table('systems')
    with op.batch_alter_table('pdf_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdf_jobs_created_by_id'))

    op.drop_table('pdf_jobs')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_status'))
        batch_op.drop_index(batch_op.f('ix_import_batches_source'))
        batch_op.drop_index(batch_op.f('ix_import_batches_org_unit_id'))
        batch_op.drop_index(batch_op.f('ix_import_batches_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_import_batches_created_at'))

    op.drop_table('import_batches')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
        batch_op.drop_index('ix_audit_events_entity_entity_id')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_org_unit_id'))

    op.drop_table('users')
    with op.batch_alter_table('reminder_logs', schema=None) as batch_op:
        batch_op.drop_index('uq_reminder_logs_once')

    op.drop_table('reminder_logs')
    op.drop_table('reference_counters')
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_units_parent_id'))

    op.drop_table('org_units')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_email'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_client_address'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))

    op.drop_table('login_attempts')
    op.drop_table('import_settings')
    op.drop_table('import_mappings')
