"""The one way a service's DomainError reaches a form: on its field, else the default, else the summary."""
from flask_wtf import FlaskForm
from wtforms import StringField

from rj.core.errors import DomainError
from rj.core.forms import show_domain_error


class _Form(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")
    note = StringField("Note")


def test_a_domain_error_goes_on_the_field_it_names(app):
    with app.test_request_context():
        form = _Form()
        assert show_domain_error(form, DomainError("Enter a shorter name", field="name"), "note") == []
        assert form.name.errors == ["Enter a shorter name"] and not form.note.errors


def test_an_unknown_field_falls_back_to_the_default_then_to_the_summary(app):
    with app.test_request_context():
        form = _Form()
        assert show_domain_error(form, DomainError("Not allowed", field="missing"), "note") == []
        assert form.note.errors == ["Not allowed"]
        error = DomainError("Cannot book", reasons=["Sam is busy", "Room too small"])
        assert show_domain_error(_Form(), error) == ["Sam is busy", "Room too small"]


def test_a_mapping_translates_the_services_field_name_to_the_forms(app):
    with app.test_request_context():
        form = _Form()
        show_domain_error(form, DomainError("Too long", field="description"), mapping={"description": "note"})
        assert form.note.errors == ["Too long"]
