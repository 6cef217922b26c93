// Starts GOV.UK Frontend's components (exit this page, character count, error summary...).
import { initAll } from "/static/govuk/govuk-frontend.min.js";
initAll();
