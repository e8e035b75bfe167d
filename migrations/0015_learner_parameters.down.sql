DROP TABLE learner_parameters;
