"""The project state machine: every legal move works and leaves an audit row; every illegal
one is refused with a clear message and changes nothing in the database."""

import pytest

from crowdfund.errors import IllegalTransition
from crowdfund.models import Project, ProjectStatus as S, StateChange
from crowdfund.services.transitions import PROJECT_MOVES, history, transition

LEGAL = [(a, b) for a in S for b in sorted(PROJECT_MOVES[a], key=lambda s: s.value)]
ILLEGAL = [(a, b) for a in S for b in S if b not in PROJECT_MOVES[a]]


def _at(db, project, status):
    project.status = status.value  # set-up only: put the project in the starting state
    db.session.commit()


def _audit_count(db, project):
    return db.session.query(StateChange).filter_by(entity="project", entity_id=project.id).count()


def test_the_tables_cover_the_whole_lifecycle():
    assert len(LEGAL) == 12
    assert (S.LIVE, S.SUCCESSFUL) in LEGAL and (S.SUCCESSFUL, S.LIVE) in ILLEGAL


def test_every_legal_move_changes_the_status_and_is_audited(db, make):
    project = make.project()
    admin = make.admin()
    for start, target in LEGAL:
        _at(db, project, start)
        before = _audit_count(db, project)
        transition(project, target, actor=admin, note=f"{start.value} to {target.value}")
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Project, project.id).status == target.value, (start, target)
        row = history(project)[-1]
        assert (row.from_state, row.to_state, row.actor_id, row.note) == (
            start.value,
            target.value,
            admin.id,
            f"{start.value} to {target.value}",
        )
        assert _audit_count(db, project) == before + 1


def test_every_illegal_move_is_refused_and_changes_nothing(db, make):
    project = make.project()
    for start, target in ILLEGAL:
        _at(db, project, start)
        before = _audit_count(db, project)
        with pytest.raises(IllegalTransition) as refused:
            transition(project, target, note="should not happen")
        assert refused.value.message.startswith("This project is") and "so it cannot become" in refused.value.message, (
            start,
            target,
        )
        db.session.commit()  # even committing afterwards stores nothing
        db.session.expire_all()
        assert db.session.get(Project, project.id).status == start.value, (start, target)
        assert _audit_count(db, project) == before, (start, target)
    assert len(ILLEGAL) == 88


def test_the_refusal_names_both_states(db, make):
    project = make.project()
    _at(db, project, S.SUCCESSFUL)
    with pytest.raises(IllegalTransition) as refused:
        transition(project, S.LIVE)
    assert refused.value.message == "This project is successful, so it cannot become live."
