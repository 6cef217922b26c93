from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, RadioField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from rj.core.forms import NoControlCharacters, strip_filter
from rj.core.permissions import Role


class LoginForm(FlaskForm):
    email = EmailField("Email address", widget=GovTextInput(), filters=[strip_filter],
                       validators=[InputRequired("Enter your email address"), Length(max=254)])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password"), Length(max=200)])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", widget=GovPasswordInput(),
                                     validators=[InputRequired("Enter your current password")])
    password = PasswordField("New password", widget=GovPasswordInput(),
                             description="At least 12 characters. A few unrelated words is a good choice.",
                             validators=[InputRequired("Enter a new password")])
    confirm = PasswordField("Confirm new password", widget=GovPasswordInput(),
                            validators=[InputRequired("Confirm your new password"),
                                        EqualTo("password", "The passwords do not match: type the same password twice")])
    submit = SubmitField("Change password", widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    password = PasswordField("Create a password", widget=GovPasswordInput(),
                             description="At least 12 characters. A few unrelated words is a good choice.",
                             validators=[InputRequired("Enter a password")])
    confirm = PasswordField("Confirm password", widget=GovPasswordInput(),
                            validators=[InputRequired("Confirm your password"),
                                        EqualTo("password", "The passwords do not match: type the same password twice")])
    submit = SubmitField("Set password", widget=GovSubmitInput())


class NewUserForm(FlaskForm):
    name = StringField("Full name", widget=GovTextInput(), filters=[strip_filter],
                       validators=[InputRequired("Enter the person's full name"), Length(max=120, message="Name must be 120 characters or fewer"),
                                   NoControlCharacters("Name")])
    email = EmailField("Email address", widget=GovTextInput(), filters=[strip_filter],
                       validators=[InputRequired("Enter an email address"),
                                   Email("Enter an email address in the correct format, like name@example.com"),
                                   Length(max=254)])
    role = RadioField("Role", widget=GovRadioInput(),
                      choices=[(r.value, r.label) for r in Role],
                      validators=[InputRequired("Select a role")])
    submit = SubmitField("Create account", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())
