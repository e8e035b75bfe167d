//! The words items are written with, in the languages the builtin generator has
//! templates for (English, French, German, Spanish): question templates, the true/false
//! labels, and the words that tell a definition, a dangling reference or narration.
//! In any other language only cloze cards are made: they need no template.

/// A language with templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
    De,
    Es,
}

/// How a definition sentence names its subject ("X is a ...", "X is called Y", "X means ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// "X is/are a Y": the predicate defines X.
    Is { plural: bool },
    /// "X is called Y": Y is X's name.
    Called { plural: bool },
    /// "X refers to Y".
    Refers,
    /// "X means Y".
    Means,
    /// A definition list's entry: X, a command or an option, over what it does.
    Does,
    /// "X lets you Y", "X allows you to Y": what X is for.
    Lets { plural: bool },
    /// "X is used to/for Y".
    UsedFor { plural: bool },
    /// "To Y, do Z": how to reach a goal (the subject is the goal, the predicate the way).
    How,
}

/// "do" for a plural subject, "does" for a singular one.
fn does(plural: bool) -> &'static str {
    if plural { "do" } else { "does" }
}

/// The true/false labels of every language with templates, in order: a true/false item's
/// choices are one of these pairs.
pub const TRUE_FALSE: [[&str; 2]; 4] =
    [["True", "False"], ["Vrai", "Faux"], ["Wahr", "Falsch"], ["Verdadero", "Falso"]];

impl Lang {
    /// The language of ISO 639-1 `code`, when it has templates.
    pub fn of(code: Option<&str>) -> Option<Lang> {
        match code? {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            "de" => Some(Lang::De),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The name of the language in English, for prompts.
    pub fn name(code: &str) -> String {
        isolang::Language::from_639_1(code).map_or_else(|| code.to_owned(), |l| l.to_name().to_owned())
    }

    /// The stem of a multiple-choice item that completes a sentence.
    pub fn complete_the_sentence(self) -> &'static str {
        match self {
            Lang::En => "Which term completes the sentence?",
            Lang::Fr => "Quel terme complète la phrase ?",
            Lang::De => "Welcher Begriff vervollständigt den Satz?",
            Lang::Es => "¿Qué término completa la oración?",
        }
    }

    /// "True" and "False".
    pub fn true_false(self) -> [&'static str; 2] {
        TRUE_FALSE[self as usize]
    }

    /// Asks which term a definition describes, from its predicate ("a growable list of
    /// values"). In French, German and Spanish the predicate is quoted: a verb of their
    /// own would need its case or its article changed.
    pub fn which_term(self, verb: Verb, predicate: &str) -> String {
        match (self, verb) {
            (Lang::En, Verb::Is { plural: false }) => format!("Which term is {predicate}?"),
            (Lang::En, Verb::Is { plural: true }) => format!("Which term names {predicate}?"),
            (Lang::En, Verb::Refers) => format!("Which term refers to {predicate}?"),
            (Lang::En, _) => format!("Which term means {predicate}?"),
            (Lang::Fr, _) => format!("Quel terme est défini ainsi : « {predicate} » ?"),
            (Lang::De, _) => format!("Welcher Begriff ist so definiert: „{predicate}“?"),
            (Lang::Es, _) => format!("¿Qué término se define así: «{predicate}»?"),
        }
    }

    /// The verbs of definition sentences, longest first, with a space either side.
    pub fn definition_verbs(self) -> &'static [(&'static str, Verb)] {
        const SINGULAR: Verb = Verb::Is { plural: false };
        const PLURAL: Verb = Verb::Is { plural: true };
        match self {
            Lang::En => &[
                (" is called ", Verb::Called { plural: false }),
                (" are called ", Verb::Called { plural: true }),
                (" refers to ", Verb::Refers),
                (" shall mean ", Verb::Means),
                (" means ", Verb::Means),
                (" allows you to ", Verb::Lets { plural: false }),
                (" allow you to ", Verb::Lets { plural: true }),
                (" allows us to ", Verb::Lets { plural: false }),
                (" allow us to ", Verb::Lets { plural: true }),
                (" lets you ", Verb::Lets { plural: false }),
                (" let you ", Verb::Lets { plural: true }),
                (" lets us ", Verb::Lets { plural: false }),
                (" let us ", Verb::Lets { plural: true }),
                (" enables you to ", Verb::Lets { plural: false }),
                (" enable you to ", Verb::Lets { plural: true }),
                (" is used to ", Verb::UsedFor { plural: false }),
                (" are used to ", Verb::UsedFor { plural: true }),
                (" is used for ", Verb::UsedFor { plural: false }),
                (" are used for ", Verb::UsedFor { plural: true }),
                (" is ", SINGULAR),
                (" are ", PLURAL),
            ],
            Lang::Fr => &[
                (" s'appelle ", Verb::Called { plural: false }),
                (" s'appellent ", Verb::Called { plural: true }),
                (" désigne ", Verb::Refers),
                (" signifie ", Verb::Means),
                (" vous permet de ", Verb::Lets { plural: false }),
                (" vous permettent de ", Verb::Lets { plural: true }),
                (" permet de ", Verb::Lets { plural: false }),
                (" permettent de ", Verb::Lets { plural: true }),
                (" permet d'", Verb::Lets { plural: false }),
                (" permettent d'", Verb::Lets { plural: true }),
                (" sert à ", Verb::UsedFor { plural: false }),
                (" servent à ", Verb::UsedFor { plural: true }),
                (" est ", SINGULAR),
                (" sont ", PLURAL),
            ],
            Lang::De => &[
                (" heißt ", Verb::Called { plural: false }),
                (" heißen ", Verb::Called { plural: true }),
                (" bezeichnet ", Verb::Refers),
                (" bedeutet ", Verb::Means),
                (" ermöglicht es ", Verb::Lets { plural: false }),
                (" ermöglichen es ", Verb::Lets { plural: true }),
                (" ermöglicht ", Verb::Lets { plural: false }),
                (" ermöglichen ", Verb::Lets { plural: true }),
                (" dient dazu, ", Verb::UsedFor { plural: false }),
                (" dienen dazu, ", Verb::UsedFor { plural: true }),
                (" dient zum ", Verb::UsedFor { plural: false }),
                (" dient zur ", Verb::UsedFor { plural: false }),
                (" ist ", SINGULAR),
                (" sind ", PLURAL),
            ],
            Lang::Es => &[
                (" se llama ", Verb::Called { plural: false }),
                (" se llaman ", Verb::Called { plural: true }),
                (" se refiere a ", Verb::Refers),
                (" significa ", Verb::Means),
                (" le permite ", Verb::Lets { plural: false }),
                (" permite ", Verb::Lets { plural: false }),
                (" permiten ", Verb::Lets { plural: true }),
                (" se usa para ", Verb::UsedFor { plural: false }),
                (" se utiliza para ", Verb::UsedFor { plural: false }),
                (" sirve para ", Verb::UsedFor { plural: false }),
                (" sirven para ", Verb::UsedFor { plural: true }),
                (" es ", SINGULAR),
                (" son ", PLURAL),
            ],
        }
    }

    /// The question a definition card asks about `subject`.
    pub fn definition_question(self, subject: &str, verb: Verb) -> String {
        match (self, verb) {
            (Lang::En, Verb::Is { plural }) => format!("What {} {subject}?", if plural { "are" } else { "is" }),
            (Lang::En, Verb::Called { plural }) => {
                format!("What {} {subject} called?", if plural { "are" } else { "is" })
            }
            (Lang::En, Verb::Refers) => format!("What does {subject} refer to?"),
            (Lang::En, Verb::Means) if subject.starts_with("to ") => format!("What does it mean {subject}?"),
            (Lang::En, Verb::Means) => format!("What is meant by {subject}?"),
            (Lang::Fr, Verb::Is { plural: false }) => {
                let elided = subject.starts_with(|c: char| "aeéèêiîouyh".contains(c.to_ascii_lowercase()));
                format!("Qu'est-ce {} {subject} ?", if elided { "qu'" } else { "que" }).replace("qu' ", "qu'")
            }
            (Lang::Fr, Verb::Is { plural: true }) => format!("Que sont {subject} ?"),
            (Lang::Fr, Verb::Called { plural }) => {
                format!("Comment {} {subject} ?", if plural { "s'appellent" } else { "s'appelle" })
            }
            (Lang::Fr, Verb::Refers) => format!("Que désigne {subject} ?"),
            (Lang::Fr, Verb::Means) => format!("Que signifie {subject} ?"),
            (Lang::De, Verb::Is { plural }) => format!("Was {} {subject}?", if plural { "sind" } else { "ist" }),
            (Lang::De, Verb::Called { plural }) => {
                format!("Wie {} {subject}?", if plural { "heißen" } else { "heißt" })
            }
            (Lang::De, Verb::Refers) => format!("Was bezeichnet {subject}?"),
            (Lang::De, Verb::Means) => format!("Was bedeutet {subject}?"),
            (Lang::Es, Verb::Is { plural }) => format!("¿Qué {} {subject}?", if plural { "son" } else { "es" }),
            (Lang::Es, Verb::Called { plural }) => {
                format!("¿Cómo {} {subject}?", if plural { "se llaman" } else { "se llama" })
            }
            (Lang::Es, Verb::Refers) => format!("¿A qué se refiere {subject}?"),
            (Lang::Es, Verb::Means) => format!("¿Qué significa {subject}?"),
            (Lang::En, Verb::Does) => format!("What does {} do?", self.entry(subject)),
            (Lang::Fr, Verb::Does) => format!("Que fait {} ?", self.entry(subject)),
            (Lang::De, Verb::Does) => format!("Was bewirkt {}?", self.entry(subject)),
            (Lang::Es, Verb::Does) => format!("¿Qué hace {}?", self.entry(subject)),
            (Lang::En, Verb::Lets { plural }) => format!("What {} {subject} let you do?", does(plural)),
            (Lang::En, Verb::UsedFor { plural }) => {
                format!("What {} {subject} used for?", if plural { "are" } else { "is" })
            }
            (Lang::Fr, Verb::Lets { plural } | Verb::UsedFor { plural }) => {
                format!("À quoi {} {subject} ?", if plural { "servent" } else { "sert" })
            }
            (Lang::De, Verb::Lets { plural } | Verb::UsedFor { plural }) => {
                format!("Wozu {} {subject}?", if plural { "dienen" } else { "dient" })
            }
            (Lang::Es, Verb::Lets { plural } | Verb::UsedFor { plural }) => {
                format!("¿Para qué {} {subject}?", if plural { "sirven" } else { "sirve" })
            }
            // The subject is the goal, an infinitive clause ("create a new thread").
            (Lang::En, Verb::How) => format!("How do you {subject}?"),
            (Lang::Fr, Verb::How) => format!("Comment {subject} ?"),
            (Lang::De, Verb::How) => format!("Wie kann man {subject}?"),
            (Lang::Es, Verb::How) => format!("¿Cómo se puede {subject}?"),
        }
    }

    /// What is left of `sentence` without an opening connective that only links it to
    /// the sentence before ("However, a null is ..." -> "a null is ..."). None in German,
    /// whose verb follows such a word ("Allerdings ist ...").
    pub fn without_connective(self, sentence: &str) -> Option<&str> {
        let openers: &[&str] = match self {
            Lang::En => &[
                "However",
                "In other words",
                "In general",
                "Generally",
                "Also",
                "As such",
                "In short",
                "In fact",
                "Similarly",
                "Therefore",
                "Thus",
                "Luckily",
                "Fortunately",
                "Unfortunately",
                "Of course",
                "Again",
                "Finally",
                "Now",
                "In practice",
                "In particular",
                "In addition",
                "Additionally",
                "Moreover",
                "Furthermore",
            ],
            Lang::Fr => &[
                "Cependant",
                "Toutefois",
                "Par ailleurs",
                "En outre",
                "De plus",
                "Ainsi",
                "En fait",
                "Autrement dit",
                "En général",
                "Généralement",
                "Néanmoins",
            ],
            Lang::De => &[],
            Lang::Es => &["Sin embargo", "Además", "Por lo tanto", "En general", "Generalmente", "De hecho"],
        };
        openers.iter().find_map(|opener| sentence.strip_prefix(opener)?.strip_prefix(", "))
    }

    /// Whether a goal (after "To": "set its value, ...") names something outside the
    /// sentence: a pronoun before any article ("use a struct after we've defined it" has
    /// its antecedent).
    pub fn goal_leans_on_context(self, goal: &str) -> bool {
        let pronouns: &[&str] = match self {
            Lang::En => &["it", "its", "them", "they", "their", "him", "her"],
            Lang::Fr => &["le", "la", "les", "l'", "l’", "lui", "leur", "leurs", "son", "sa", "ses"],
            Lang::De => &["es", "sie", "ihn", "ihm", "ihr", "ihre", "ihren", "sein", "seine", "seinen"],
            Lang::Es => &["lo", "la", "los", "las", "le", "les", "su", "sus"],
        };
        // French, German and Spanish object pronouns stand before the verb ("Pour la
        // télécharger", "Um es zu installieren"), English ones after it.
        if self != Lang::En {
            let first = goal.split_whitespace().next().unwrap_or_default().to_lowercase();
            return pronouns.contains(&first.as_str()) || first.starts_with(['l', 'L']) && first.contains(['\'', '’']);
        }
        for word in goal.split_whitespace().skip(1) {
            let word = word.to_lowercase();
            if pronouns.contains(&word.as_str()) {
                return true;
            }
            if self.articles().contains(&word.as_str()) {
                return false;
            }
        }
        false
    }

    /// Whether `word` says a step is the first of several ("first", "d'abord").
    pub fn first_step(self, word: &str) -> bool {
        let list: &[&str] = match self {
            Lang::En => &["first", "firstly"],
            Lang::Fr => &["d'abord", "d’abord", "premièrement"],
            Lang::De => &["erst", "zuerst", "zunächst"],
            Lang::Es => &["primero"],
        };
        list.contains(&word.to_lowercase().trim_matches(|c: char| c == ',' || c == '.'))
    }

    /// What opens a sentence that names a goal before the way to it ("To create a
    /// vector, call ...", "Pour installer un paquet, ...", "Um ... zu ..., ...").
    pub fn goal_opener(self) -> &'static str {
        match self {
            Lang::En => "To ",
            Lang::Fr => "Pour ",
            Lang::De => "Um ",
            Lang::Es => "Para ",
        }
    }

    /// Whether `word` (lower case) can be the verb of a goal's infinitive clause
    /// ("create", "installer", "instalar"; German puts it last, after "zu"). English
    /// verbs of the text's own narration are no goals ("To illustrate this, ...").
    pub fn goal_verb(self, word: &str) -> bool {
        let alphabetic = word.chars().all(char::is_alphabetic);
        alphabetic
            && match self {
                Lang::En => ![
                    "do",
                    "fix",
                    "illustrate",
                    "see",
                    "learn",
                    "answer",
                    "show",
                    "demonstrate",
                    "understand",
                    "recap",
                    "summarize",
                    "summarise",
                    "explore",
                    "be",
                    "conclude",
                    "sum",
                    "put",
                    "say",
                    "find",
                    "recall",
                    "review",
                    // Not verbs: "To many people, ...", "To date, ...", "To me, ...".
                    "many",
                    "most",
                    "some",
                    "all",
                    "me",
                    "us",
                    "them",
                    "him",
                    "her",
                    "date",
                    "each",
                    "every",
                    "what",
                    "which",
                    "this",
                    "that",
                ]
                .contains(&word.to_lowercase().as_str()),
                Lang::Fr => ["er", "ir", "re", "oir"].iter().any(|end| word.ends_with(end)) && word != "faire",
                Lang::De => word.ends_with('n') && word.chars().count() > 3,
                Lang::Es => ["ar", "er", "ir"].iter().any(|end| word.ends_with(end)) && word != "hacer",
            }
    }

    /// A definition list's entry as a question names it: an option as such ("the option
    /// -d, --download-only"), a command by its name.
    fn entry(self, name: &str) -> String {
        if !name.starts_with('-') {
            return name.to_owned();
        }
        let option = match self {
            Lang::En => "the option",
            Lang::Fr => "l'option",
            Lang::De => "die Option",
            Lang::Es => "la opción",
        };
        format!("{option} {name}")
    }

    /// Articles (lower case) that may open a noun phrase.
    pub fn articles(self) -> &'static [&'static str] {
        match self {
            Lang::En => &["the", "a", "an"],
            Lang::Fr => &["le", "la", "les", "l'", "un", "une", "des", "du"],
            Lang::De => &["der", "die", "das", "den", "dem", "des", "ein", "eine", "einer", "eines", "einem", "einen"],
            Lang::Es => &["el", "la", "los", "las", "un", "una", "unos", "unas", "lo"],
        }
    }

    /// Words (lower case) that open a noun phrase's predicate in a definition: an article
    /// or a word such as "one", "any".
    pub fn opens_definition(self, word: &str) -> bool {
        let word = word.to_lowercase();
        let extra: &[&str] = match self {
            Lang::En => &["one", "any"],
            Lang::Fr => &["l"],
            Lang::De => &[],
            Lang::Es => &["uno"],
        };
        self.articles().contains(&word.as_str())
            || extra.contains(&word.as_str())
            || (self == Lang::Fr && (word.starts_with("l'") || word.starts_with("l’")))
    }

    /// The words that join two things of a kind ("and", "or").
    pub fn coordinators(self) -> &'static [&'static str] {
        match self {
            Lang::En => &["and", "or"],
            Lang::Fr => &["et", "ou"],
            Lang::De => &["und", "oder"],
            Lang::Es => &["y", "o", "e", "u"],
        }
    }

    /// Whether `sentence` sets one thing against another ("rather than", "instead of").
    pub fn contrasts(self, sentence: &str) -> bool {
        let lower = sentence.to_lowercase();
        let markers: &[&str] = match self {
            Lang::En => &["rather than", "instead of", "as opposed to", "unlike", "versus", " vs", "whereas"],
            Lang::Fr => &["plutôt que", "au lieu de", "contrairement", "à la différence", "tandis que"],
            Lang::De => &["statt", "im gegensatz", "anders als", "während"],
            Lang::Es => &["en lugar de", "en vez de", "a diferencia de", "mientras que"],
        };
        markers.iter().any(|m| lower.contains(m))
    }

    /// Whether `word` (as written) opens a reason: "because", "parce que", "weil".
    pub fn gives_a_reason(self, word: &str) -> bool {
        let list: &[&str] = match self {
            Lang::En => &["because", "since"],
            Lang::Fr => &["parce", "puisque"],
            Lang::De => &["weil", "da"],
            Lang::Es => &["porque", "puesto"],
        };
        list.contains(&word.to_lowercase().as_str())
    }

    /// Whether `word` negates what follows or precedes it ("not", "ne ... pas", "nicht").
    pub fn negates(self, word: &str) -> bool {
        let word = word.to_lowercase();
        let list: &[&str] = match self {
            Lang::En if word.ends_with("n't") || word.ends_with("n’t") => return true,
            Lang::En => &["not", "never", "no"],
            Lang::Fr => &["ne", "n'", "n’", "pas", "jamais"],
            Lang::De => &["nicht", "kein", "keine", "keinen", "nie"],
            Lang::Es => &["no", "nunca"],
        };
        list.contains(&word.as_str())
    }

    /// Words (lower case) that make a sentence lean on what comes before it when they open
    /// it or a definition's subject: pronouns, demonstratives, connectives.
    /// Whether a demonstrative in `sentence` stands for something said before it ("The
    /// inverse of this is true ...", "cela"), rather than opening a noun phrase ("this
    /// License").
    pub fn demonstrative_pronoun(self, sentence: &str) -> bool {
        let words: Vec<&str> = sentence.split_whitespace().collect();
        words.iter().enumerate().any(|(i, word)| {
            let bare = word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
            match self {
                Lang::En if ["this", "these", "those"].contains(&bare.as_str()) => {
                    let ends_clause = word.ends_with([',', '.', ';', ':']);
                    let next = words.get(i + 1).map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase());
                    ends_clause || next.is_none_or(|n| PRONOUN_FOLLOWERS.contains(&n.as_str()))
                }
                Lang::En => false,
                Lang::Fr => ["ceci", "cela", "ça"].contains(&bare.as_str()),
                Lang::De => bare == "dies",
                Lang::Es => ["esto", "eso"].contains(&bare.as_str()),
            }
        })
    }

    /// Whether `sentence` has a narrator ("we", "our": the text speaking of itself).
    pub fn narrates(self, sentence: &str) -> bool {
        let narrator: &[&str] = match self {
            Lang::En => &["we", "our", "us"],
            Lang::Fr => &["nous"],
            Lang::De => &["wir", "unser", "unsere"],
            Lang::Es => &["nosotros", "nuestro", "nuestra"],
        };
        sentence.split(|c: char| !c.is_alphanumeric()).any(|w| narrator.contains(&w))
    }

    /// Demonstratives that open a noun phrase ("This level ...", "These lints ...").
    pub fn demonstrative_determiners(self) -> &'static [&'static str] {
        match self {
            Lang::En => &["this", "these"],
            Lang::Fr => &["ce", "cet", "cette", "ces"],
            Lang::De => &["diese", "dieser", "dieses", "diesem", "diesen"],
            Lang::Es => &["este", "esta", "estos", "estas"],
        }
    }

    pub fn leans_on_context(self, word: &str) -> bool {
        let word = word.to_lowercase();
        let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’');
        let list: &[&str] = match self {
            Lang::En => &[
                "it",
                "its",
                "this",
                "that",
                "these",
                "those",
                "they",
                "them",
                "their",
                "he",
                "she",
                "his",
                "her",
                "we",
                "our",
                "us",
                "i",
                "my",
                "here",
                "there",
                "such",
                "but",
                "and",
                "or",
                "so",
                "also",
                "then",
                "thus",
                "hence",
                "however",
                "instead",
                "otherwise",
                "therefore",
                "moreover",
                "furthermore",
                "likewise",
                "similarly",
                "meanwhile",
                "now",
                "next",
                "finally",
                "first",
                "second",
                "third",
                "last",
                "again",
                "still",
                "yet",
                "because",
                "since",
                "although",
                "though",
                "while",
                "whereas",
                "if",
                "unless",
                "when",
                "note",
                "notice",
                "remember",
                "recall",
                "consider",
                "let's",
                "let",
                "see",
                "as",
                "which",
                "what",
                "who",
                "whose",
                "where",
                "why",
                "how",
                "same",
                "former",
                "latter",
                "above",
                "below",
                "following",
                "previous",
                "you",
                "your",
                "yes",
                "try",
                "think",
                "imagine",
                "look",
                "suppose",
                "say",
                "go",
                "check",
                "make",
                "run",
                "keep",
                "don't",
                "do",
                "be",
                "unfortunately",
                "fortunately",
                "luckily",
                "actually",
                "rather",
                "phew",
                "currently",
                "today",
                "nowadays",
            ],
            Lang::Fr => &[
                "actuellement",
                "aujourd'hui",
                "désormais",
                "il",
                "elle",
                "ils",
                "elles",
                "on",
                "ce",
                "cet",
                "cette",
                "ces",
                "cela",
                "ceci",
                "ça",
                "celui",
                "celle",
                "ceux",
                "celles",
                "son",
                "sa",
                "ses",
                "leur",
                "leurs",
                "nous",
                "vous",
                "je",
                "mais",
                "et",
                "ou",
                "donc",
                "ainsi",
                "alors",
                "puis",
                "ensuite",
                "enfin",
                "cependant",
                "pourtant",
                "toutefois",
                "aussi",
                "car",
                "parce",
                "puisque",
                "si",
                "quand",
                "lorsque",
                "comme",
                "voici",
                "voilà",
                "ici",
                "tel",
                "telle",
                "tels",
                "telles",
                "notez",
                "remarquez",
                "qui",
                "que",
                "quoi",
                "où",
                "dont",
            ],
            Lang::De => &[
                "derzeit",
                "zurzeit",
                "aktuell",
                "heute",
                "heutzutage",
                "hier",
                "er",
                "sie",
                "es",
                "ihr",
                "ihre",
                "sein",
                "seine",
                "wir",
                "uns",
                "unser",
                "ich",
                "du",
                "dies",
                "diese",
                "dieser",
                "dieses",
                "diesem",
                "diesen",
                "jene",
                "jener",
                "jenes",
                "solche",
                "solcher",
                "aber",
                "und",
                "oder",
                "also",
                "dann",
                "daher",
                "deshalb",
                "jedoch",
                "außerdem",
                "hier",
                "dort",
                "da",
                "weil",
                "wenn",
                "obwohl",
                "während",
                "falls",
                "dabei",
                "damit",
                "dazu",
                "davon",
                "darin",
                "wer",
                "was",
                "wie",
                "wo",
                "warum",
                "welche",
                "welcher",
                "man",
            ],
            Lang::Es => &[
                "actualmente",
                "hoy",
                "él",
                "ella",
                "ellos",
                "ellas",
                "esto",
                "este",
                "esta",
                "estos",
                "estas",
                "eso",
                "ese",
                "esa",
                "esos",
                "esas",
                "aquí",
                "allí",
                "su",
                "sus",
                "nosotros",
                "nuestro",
                "nuestra",
                "yo",
                "tú",
                "pero",
                "y",
                "o",
                "así",
                "entonces",
                "luego",
                "después",
                "además",
                "sin",
                "embargo",
                "también",
                "porque",
                "pues",
                "si",
                "cuando",
                "aunque",
                "mientras",
                "como",
                "tal",
                "tales",
                "que",
                "qué",
                "quien",
                "donde",
                "cuyo",
            ],
        };
        list.contains(&word)
    }

    /// Whether `word` (lower case) is a quantifier or a word of comparison ("every",
    /// "most", "other"): a subject it opens names no one concept.
    pub fn quantifies(self, word: &str) -> bool {
        let list: &[&str] = match self {
            Lang::En => &[
                "every", "each", "some", "many", "most", "all", "no", "none", "one", "both", "either", "neither",
                "another", "other", "others", "any", "few", "several", "same", "first", "second", "last", "next",
            ],
            Lang::Fr => &["chaque", "tous", "tout", "toute", "toutes", "certains", "plusieurs", "autre", "autres"],
            Lang::De => &["jede", "jeder", "jedes", "alle", "viele", "manche", "einige", "andere", "anderen", "beide"],
            Lang::Es => &["cada", "todos", "todas", "algunos", "varios", "otro", "otra", "otros", "otras", "ambos"],
        };
        list.contains(&word)
    }

    /// Whether a demonstrative stands inside the sentence ("In water these molecules
    /// ..."): it points at something said before.
    pub fn refers_back(self, sentence: &str) -> bool {
        let demonstratives: &[&str] = match self {
            // (and a narrator's "I": a quotation, or an aside)
            Lang::En => &["this", "these", "those", "such", "thus", "therefore", "hence", "however", "instead", "i"],
            Lang::Fr => &["ce", "cet", "cette", "ces", "ceci", "cela"],
            Lang::De => &["diese", "dieser", "dieses", "diesem", "diesen", "solche", "solchen"],
            Lang::Es => &["este", "esta", "estos", "estas", "esto", "ese", "esa", "esos", "esas"],
        };
        sentence.split_whitespace().skip(1).any(|w| {
            let word = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
            demonstratives.contains(&word.as_str())
        })
    }

    /// Whether `word` (lower case) is a generic noun that names no concept of its own
    /// ("case", "way", "data"): never a key term, a blank or a distractor.
    pub fn is_generic(self, word: &str) -> bool {
        let list: &[&str] = match self {
            Lang::En => &[
                "aka",
                "exception",
                "exceptions",
                "difference",
                "differences",
                "solution",
                "case",
                "cases",
                "way",
                "ways",
                "thing",
                "things",
                "part",
                "parts",
                "time",
                "times",
                "example",
                "examples",
                "kind",
                "kinds",
                "type",
                "types",
                "sort",
                "number",
                "numbers",
                "amount",
                "lot",
                "lots",
                "data",
                "information",
                "situation",
                "situations",
                "point",
                "points",
                "instance",
                "instances",
                "size",
                "language",
                "languages",
                "problem",
                "problems",
                "reason",
                "reasons",
                "result",
                "results",
                "place",
                "side",
                "end",
                "form",
                "idea",
                "ideas",
                "piece",
                "bit",
                "set",
                "order",
                "rest",
                "course",
                "fact",
                "facts",
                "question",
                "answer",
                "work",
                "use",
                "need",
                "deal",
                "detail",
                "details",
                "aspect",
                "aspects",
                "approach",
                "method",
                "methods",
                "option",
                "options",
                "feature",
                "features",
                "issue",
                "issues",
                "matter",
                "stuff",
                "step",
                "steps",
                "level",
                "large",
                "small",
                "big",
                "good",
                "new",
                "old",
                "same",
                "different",
                "other",
                "certain",
                "common",
                "whole",
                "main",
                "important",
                "specific",
                "general",
                "particular",
                "chapter",
                "section",
                "book",
                "code",
                "program",
                "programs",
                "text",
                "word",
                "words",
                "line",
                "lines",
                "name",
                "names",
            ],
            Lang::Fr => &[
                "option",
                "options",
                "information",
                "informations",
                "installation",
                "utilisation",
                "sortie",
                "cas",
                "façon",
                "manière",
                "chose",
                "choses",
                "partie",
                "parties",
                "temps",
                "exemple",
                "exemples",
                "type",
                "types",
                "sorte",
                "nombre",
                "quantité",
                "données",
                "information",
                "situation",
                "point",
                "problème",
                "raison",
                "résultat",
                "place",
                "côté",
                "fin",
                "forme",
                "idée",
                "morceau",
                "ensemble",
                "ordre",
                "reste",
                "fait",
                "question",
                "réponse",
                "travail",
                "usage",
                "besoin",
                "détail",
                "aspect",
                "chapitre",
                "section",
                "livre",
            ],
            Lang::De => &[
                "option",
                "optionen",
                "information",
                "informationen",
                "installation",
                "verwendung",
                "ausgabe",
                "fall",
                "fälle",
                "weise",
                "art",
                "ding",
                "dinge",
                "teil",
                "teile",
                "zeit",
                "beispiel",
                "beispiele",
                "typ",
                "typen",
                "anzahl",
                "menge",
                "daten",
                "information",
                "situation",
                "punkt",
                "problem",
                "grund",
                "ergebnis",
                "platz",
                "seite",
                "ende",
                "form",
                "idee",
                "stück",
                "reihe",
                "rest",
                "tatsache",
                "frage",
                "antwort",
                "arbeit",
                "bedarf",
                "detail",
                "aspekt",
                "kapitel",
                "abschnitt",
                "buch",
            ],
            Lang::Es => &[
                "opción",
                "opciones",
                "información",
                "instalación",
                "uso",
                "caso",
                "casos",
                "manera",
                "forma",
                "cosa",
                "cosas",
                "parte",
                "partes",
                "tiempo",
                "ejemplo",
                "ejemplos",
                "tipo",
                "tipos",
                "número",
                "cantidad",
                "datos",
                "información",
                "situación",
                "punto",
                "problema",
                "razón",
                "resultado",
                "lugar",
                "lado",
                "fin",
                "idea",
                "pieza",
                "conjunto",
                "orden",
                "resto",
                "hecho",
                "pregunta",
                "respuesta",
                "trabajo",
                "uso",
                "necesidad",
                "detalle",
                "aspecto",
                "capítulo",
                "sección",
                "libro",
            ],
        };
        list.contains(&word)
    }

    /// Phrases (lower case) that tie a sentence to the page around it or narrate the text
    /// rather than teach: "in this chapter", "as shown", "the following".
    pub fn points_elsewhere(self, sentence: &str) -> bool {
        let lower = sentence.to_lowercase();
        let phrases: &[&str] = match self {
            Lang::En => &[
                "this chapter",
                "you’ve learned",
                "you've learned",
                "we’ve learned",
                "we've learned",
                "this section",
                "this book",
                "this example",
                "this listing",
                "this code",
                "this program",
                "this function",
                "this error",
                "this output",
                "this case",
                "this point",
                "next chapter",
                "next section",
                "previous chapter",
                "previous section",
                "later chapter",
                "the following",
                "as follows",
                "shown above",
                "shown below",
                "see above",
                "see below",
                "as shown",
                "we'll",
                "we will",
                "we’ll",
                "we've",
                "we’ve",
                "we're",
                "we’re",
                "let's",
                "let’s",
                "let us",
                "you'll see",
                "you’ll see",
                "you'll get",
                "you’ll get",
                "i'll",
                "i’ll",
                "earlier",
                "for now",
                "right now",
                "in a moment",
                "here's",
                "here’s",
                "here is",
                "at this point",
                "the above",
                "the below",
                "above,",
                "below,",
                "this time",
                "in that case",
                "in the first case",
                "in the second case",
                "in both cases",
                "in either case",
                "the previous",
                "the preceding",
                "shown on the",
                "shown in",
                "the next",
                "as we saw",
                "as you saw",
                // Sentences that point at an example or a picture, or talk to the reader.
                "for example",
                "for instance",
                "e.g.",
                "on the right",
                "on the left",
                "the variable ",
                "the good news",
                "the bad news",
                "note that",
                "notice that",
                "recall that",
                "remember that",
                "you can see",
                "as you can",
                // A line, a run or a result of the example at hand ("the failure we got").
                "the first line",
                "the second line",
                "the third line",
                "the last line",
                "this line",
                "that line",
                "we got",
                "we get",
                "we saw",
                "we see",
                "we run",
                "we ran",
                "we used",
                "we wrote",
                "we defined",
                // The example or output at hand: "the third case", "the last two lines",
                // "the closure here".
                "the first case",
                "the second case",
                "the third case",
                "the last two",
                "the last assertion",
                " here ",
                " here,",
                "we haven't",
                "we haven’t",
                "we have not",
                "our code",
                "our program",
                "our example",
                "our project",
            ],
            Lang::Fr => &[
                "ce chapitre",
                "cette section",
                "ce livre",
                "cet exemple",
                "ci-dessous",
                "ci-dessus",
                "suivant :",
                "suivante :",
                "chapitre suivant",
                "section suivante",
                "nous allons",
                "voyons",
                "voici",
                "par exemple",
                "à droite",
                "à gauche",
                "notez que",
                "veuillez noter",
            ],
            Lang::De => &[
                "dieses kapitel",
                "diesem kapitel",
                "dieser abschnitt",
                "diesem abschnitt",
                "dieses buch",
                "dieses beispiel",
                "diesem beispiel",
                "folgende",
                "folgenden",
                "unten",
                "oben",
                "nächsten kapitel",
                "wir werden",
                "sehen wir",
                "zum beispiel",
                "z. b.",
                "z.b.",
                "beachten sie",
            ],
            Lang::Es => &[
                "este capítulo",
                "esta sección",
                "este libro",
                "este ejemplo",
                "a continuación",
                "siguiente:",
                "siguientes:",
                "más adelante",
                "vamos a",
                "veamos",
                "por ejemplo",
                "a la derecha",
                "a la izquierda",
                "tenga en cuenta",
            ],
        };
        phrases.iter().any(|p| lower.contains(p))
    }
}

/// Words that, followed by a number, name a part of a document: "Listing 8-1",
/// "Figure 3", "Chapter IV", in the languages with templates.
const LABELS: &[&str] = &[
    "listing",
    "figure",
    "fig",
    "table",
    "chapter",
    "section",
    "example",
    "appendix",
    "page",
    "step",
    "part",
    "équation",
    "tableau",
    "chapitre",
    "exemple",
    "annexe",
    "abbildung",
    "abb",
    "tabelle",
    "kapitel",
    "abschnitt",
    "beispiel",
    "anhang",
    "seite",
    "figura",
    "tabla",
    "capítulo",
    "sección",
    "ejemplo",
    "apéndice",
    "página",
];

/// Whether `word` (lower case) is one of the words that name parts of a document.
pub fn is_label(word: &str) -> bool {
    LABELS.contains(&word.trim_end_matches('.'))
}

/// Whether `text` names a part of its document ("Listing 8-1", "see Figure 3").
pub fn has_reference_label(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).any(|pair| {
        let label = pair[0].trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        let number = pair[1].trim_end_matches(|c: char| !c.is_alphanumeric());
        LABELS.contains(&label.as_str())
            && (number.starts_with(|c: char| c.is_ascii_digit())
                || (!number.is_empty() && number.chars().all(|c| "IVXLC".contains(c))))
    })
}

/// Words after which an English demonstrative stands alone, as a pronoun ("this is",
/// "of this and").
const PRONOUN_FOLLOWERS: [&str; 24] = [
    "is", "are", "was", "were", "can", "will", "does", "do", "has", "have", "means", "would", "should", "may", "might",
    "must", "in", "of", "to", "and", "or", "as", "by", "for",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_read_in_their_language() {
        let is = Verb::Is { plural: false };
        assert_eq!(Lang::En.definition_question("the cell", is), "What is the cell?");
        assert_eq!(Lang::Fr.definition_question("la cellule", is), "Qu'est-ce que la cellule ?");
        assert_eq!(Lang::Fr.definition_question("un atome", is), "Qu'est-ce qu'un atome ?");
        assert_eq!(Lang::De.definition_question("die Zelle", is), "Was ist die Zelle?");
        assert_eq!(Lang::Es.definition_question("la célula", is), "¿Qué es la célula?");
        assert_eq!(Lang::Es.true_false(), ["Verdadero", "Falso"]);
        assert_eq!(Lang::of(Some("de")), Some(Lang::De));
        assert_eq!(Lang::of(Some("ja")), None);
        assert_eq!(Lang::name("fr"), "French");
    }

    #[test]
    fn context_and_narration_are_told() {
        assert!(Lang::En.leans_on_context("It"));
        assert!(Lang::Fr.leans_on_context("Cette"));
        assert!(!Lang::En.leans_on_context("Cells"));
        assert!(Lang::En.points_elsewhere("In this chapter we create a vector."));
        assert!(Lang::En.refers_back("In water these molecules form a bilayer."));
        assert!(Lang::De.points_elsewhere("In diesem Kapitel lernen Sie Zellen kennen."));
        assert!(!Lang::En.points_elsewhere("A vector stores values next to each other in memory."));
        assert!(Lang::En.points_elsewhere("On the right is the memory on the heap that holds the contents."));
        assert!(Lang::En.points_elsewhere("For example, the standard library implements the trait."));
        assert!(Lang::Fr.points_elsewhere("Par exemple, la cellule se divise."));
        assert!(has_reference_label("In Listing 8-1 we create a vector."));
        assert!(has_reference_label("Chapter IV"));
        assert!(!has_reference_label("A hash table stores keys."));
    }
}
