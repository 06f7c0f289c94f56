"""Stretch goals of a reward campaign: amounts above the goal and what they unlock."""

from ..errors import NotFound
from ..services import stretch_goals
from . import serializers
from .project_schemas import STRETCH_GOAL, STRETCH_GOAL_CREATE, STRETCH_GOALS
from .projects import visible_project
from .registry import operation


@operation(
    "POST",
    "/projects/{project_id}/stretch-goals",
    tag="projects",
    summary="Add a stretch goal",
    description="Reward campaigns, while a draft, approved or live. Its backers are mailed once when "
    "the total raised first reaches `amount`.",
    body=STRETCH_GOAL_CREATE,
    status=201,
    response=STRETCH_GOAL,
    errors=(403,),
)
def add_stretch_goal(call, project_id):
    project = visible_project(call.user, project_id)
    return serializers.stretch_goal(stretch_goals.add_stretch_goal(call.user, project, call.body))


@operation(
    "GET",
    "/projects/{project_id}/stretch-goals",
    tag="projects",
    access="optional",
    summary="A campaign's stretch goals",
    response=STRETCH_GOALS,
)
def list_stretch_goals(call, project_id):
    project = visible_project(call.user, project_id)
    return [serializers.stretch_goal(goal) for goal in project.stretch_goals]


@operation(
    "DELETE",
    "/projects/{project_id}/stretch-goals/{stretch_goal_id}",
    tag="projects",
    summary="Remove a stretch goal not yet reached",
    status=204,
    errors=(403,),
)
def delete_stretch_goal(call, project_id, stretch_goal_id):
    project = visible_project(call.user, project_id)
    goal = stretch_goals.get_stretch_goal(project, stretch_goal_id)
    if goal is None:
        raise NotFound("There is no such stretch goal.")
    stretch_goals.delete_stretch_goal(call.user, goal)
