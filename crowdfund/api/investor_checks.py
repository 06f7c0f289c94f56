"""What an investor proves before investing (/me/...): the eu_ecsp entry knowledge test and
loss-bearing simulation (services/entry_checks.py), the cn proof of being a qualified investor
(services/qualifications.py)."""

from ..domain.clock import utcnow
from ..errors import NotFound, ValidationError
from ..services import entry_checks, investors, qualifications
from .registry import operation
from .schemas import BOOLEAN, COUNT, CURRENCY, MONEY, MONEY_OUT, STRING, TIME, line, nullable, obj
from .serializers import iso

CHECK = obj({"passed_at": nullable(TIME), "valid_until": nullable(TIME), "valid": BOOLEAN})
QUESTION = obj(
    {
        "key": STRING,
        "text": STRING,
        "choices": {"type": "array", "items": obj({"key": STRING, "text": STRING})},
    }
)
QUALIFICATION = obj(
    {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["pending", "approved", "refused"]},
        "basis": {"type": "string", "enum": list(qualifications.BASES)},
        "amount": MONEY_OUT,
        "currency": STRING,
        "submitted_at": TIME,
        "decided_at": nullable(TIME),
        "reason": STRING,
    }
)
CHECKS = obj(
    {
        "entry_checks_required": {
            **BOOLEAN,
            "description": "eu_ecsp: whether you must pass the knowledge test and the loss simulation "
            "before investing (not for sophisticated investors).",
        },
        "knowledge_test": CHECK,
        "loss_simulation": CHECK,
        "pass_mark": COUNT,
        "questions": {"type": "array", "items": QUESTION},
        "qualification_required": {**BOOLEAN, "description": "cn: whether an approved proof is needed."},
        "qualification": nullable(QUALIFICATION),
    }
)
TEST_ANSWERS = obj(
    {
        "answers": {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": 10},
            "description": "{question key: choice key} for every question of GET /me/investor-checks.",
        }
    },
    required=["answers"],
)
TEST_RESULT = obj({"passed": BOOLEAN, "score": COUNT, "questions": COUNT, "pass_mark": COUNT, "taken_at": TIME})
SIMULATION_IN = obj(
    {
        "net_worth": {**MONEY, "description": "Your net worth, minor units of `currency`."},
        "currency": CURRENCY,
        "acknowledge": {
            **BOOLEAN,
            "description": "true: you have seen the loss you can bear (10% of your net worth). Without it: "
            "422 `simulation_not_acknowledged` naming this field, its message stating the amount.",
        },
    },
    required=["net_worth", "currency"],
)
SIMULATION_OUT = obj({"net_worth": MONEY_OUT, "loss_capacity": MONEY_OUT, "currency": STRING, "acknowledged_at": TIME})
QUALIFICATION_UPLOAD = obj(
    {
        "basis": {"type": "string", "enum": list(qualifications.BASES)},
        "amount": line(20, description="The figure, minor units of the rulebook's currency (CNY)."),
        "file": {"type": "string", "format": "binary"},
    },
    required=["basis", "amount", "file"],
    description="The evidence: a PDF, JPEG or PNG (judged by its contents), at most UPLOAD_MAX_EVIDENCE_BYTES.",
)


def _check(moment, checks, now):
    until = checks.valid_until(moment)
    return {"passed_at": iso(moment), "valid_until": iso(until), "valid": until is not None and now < until}


def _qualification(item):
    if item is None:
        return None
    return {
        "id": item.id,
        "status": item.status,
        "basis": item.basis,
        "amount": item.amount,
        "currency": item.currency,
        "submitted_at": iso(item.submitted_at),
        "decided_at": iso(item.decided_at),
        "reason": item.reason or "",
    }


@operation(
    "GET", "/me/investor-checks", tag="investing", summary="What you must prove before investing", response=CHECKS
)
def get_investor_checks(call):
    checks, now = entry_checks.checks_of(call.user), utcnow()
    return {
        "entry_checks_required": entry_checks.applies(investors.get_profile(call.user)),
        "knowledge_test": _check(checks.test_passed_at, checks, now),
        "loss_simulation": _check(checks.simulation_at, checks, now),
        "pass_mark": min(entry_checks.rulebook().knowledge_test_pass_mark, len(entry_checks.QUESTIONS)),
        "questions": [
            {"key": q.key, "text": str(q.text), "choices": [{"key": k, "text": str(t)} for k, t in q.choices]}
            for q in entry_checks.QUESTIONS
        ],
        "qualification_required": qualifications.required(),
        "qualification": _qualification(qualifications.latest(call.user)),
    }


@operation(
    "POST",
    "/me/knowledge-test",
    tag="investing",
    summary="Take the entry knowledge test",
    description="Every question must be answered (422 naming `answers.<key>`). A pass counts for "
    "INVESTOR_CHECKS_VALID_DAYS; every attempt is recorded.",
    body=TEST_ANSWERS,
    response=TEST_RESULT,
)
def take_knowledge_test(call):
    result = entry_checks.take_test(call.user, call.body["answers"])
    return {
        "passed": result.passed,
        "score": result.score,
        "questions": result.questions,
        "pass_mark": result.pass_mark,
        "taken_at": iso(result.at),
    }


@operation(
    "POST",
    "/me/loss-simulation",
    tag="investing",
    summary="Record the loss-bearing simulation",
    body=SIMULATION_IN,
    response=SIMULATION_OUT,
)
def record_loss_simulation(call):
    record = entry_checks.acknowledge_simulation(
        call.user,
        net_worth=call.body["net_worth"],
        currency=call.body["currency"],
        acknowledged=call.body.get("acknowledge"),
    )
    return {
        "net_worth": record.net_worth,
        "loss_capacity": record.loss_capacity,
        "currency": record.currency,
        "acknowledged_at": iso(record.created_at),
    }


@operation(
    "GET",
    "/me/qualification",
    tag="investing",
    summary="Your latest proof of being a qualified investor",
    response=QUALIFICATION,
    errors=(404,),
)
def get_qualification(call):
    item = qualifications.latest(call.user)
    if item is None:
        raise NotFound("You have sent no proof yet.")
    return _qualification(item)


@operation(
    "POST",
    "/me/qualification",
    tag="investing",
    summary="Send proof of being a qualified investor, for an admin to review",
    description="cn: financial assets or annual income of at least the thresholds in force (see "
    "/how-investing-works), with evidence. While one waits for review: 409 `qualification_pending`; "
    "under rules that ask for no proof: 409 `qualification_not_required`.",
    multipart=QUALIFICATION_UPLOAD,
    status=201,
    response=QUALIFICATION,
    errors=(409,),
)
def post_qualification(call):
    text = (call.body.get("amount") or "").strip()
    if not text.isdigit():
        message = "Enter the amount as a whole number of minor units."
        raise ValidationError(message, fields={"amount": message})
    upload = call.files["file"]
    item = qualifications.submit(
        call.user,
        basis=call.body.get("basis"),
        amount=int(text),
        filename=upload.filename,
        content_type=upload.mimetype,
        stream=upload.stream,
    )
    return _qualification(item)
