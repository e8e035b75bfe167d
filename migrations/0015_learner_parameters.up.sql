-- learner_parameters: each learner's own FSRS parameters, fitted by the optimiser to
-- their graded answers (studyhall::learn::optimise). No row, or a NULL parameters, means
-- the defaults. The log losses are those of the defaults and of the parameters kept,
-- measured on the history of the last fit; fitted_at is when the optimiser last ran (a
-- fit that was not better keeps the old parameters but still counts as a run).
CREATE TABLE learner_parameters (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    -- FSRS-6's 21 parameters; the last is the forgetting curve's decay, which SQL that
    -- predicts recall reads.
    parameters real[] CHECK (array_length(parameters, 1) = 21 AND parameters[21] BETWEEN 0.1 AND 0.8),
    log_loss_default double precision,
    log_loss_fitted double precision,
    -- Graded answers in the history, and those of them the fit could learn from (each
    -- a day or more after the item's previous answer).
    reviews integer NOT NULL CHECK (reviews >= 0),
    training_reviews integer NOT NULL CHECK (training_reviews >= 0),
    -- What the last run did, in words for the learner.
    outcome text NOT NULL,
    fitted_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE learner_parameters ENABLE ROW LEVEL SECURITY;
ALTER TABLE learner_parameters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON learner_parameters
    USING (user_id = (SELECT studyhall_current_user()) OR (SELECT studyhall_privileged()));
GRANT SELECT, INSERT, UPDATE, DELETE ON learner_parameters TO studyhall_app;
