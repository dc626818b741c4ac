//! Who asks the engine to act: a named human, an agent or a service. Typed so that the rule
//! "only a human re-arms" is decided by the gate on a kind, not by each caller on a string.

use std::fmt;

/// The longest `kind:name` the audit log's actor column holds.
pub const MAX_ACTOR_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A person, by the name the desk knows them by (an API key's name, a Slack user).
    Human(String),
    /// One of the desk's agents ("pm", "risk", "execution", ...).
    Agent(String),
    /// A process acting on its own account (the gate's breakers, the scheduler).
    Service(String),
}

/// Why a text is not an actor. The message names the rule the text broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorError(pub String);

impl fmt::Display for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ActorError {}

impl Actor {
    /// Parse the desk's spelling, `human:alice`, `agent:risk`, `service:execution`, strictly:
    /// a known kind in lower case, one colon, a name with no surrounding blanks or control
    /// characters, `MAX_ACTOR_LEN` characters at most in all.
    pub fn parse(text: &str) -> Result<Actor, ActorError> {
        let Some((kind, name)) = text.split_once(':') else {
            return Err(ActorError(format!(
                "actor {text:?} is not 'kind:name' (human:<name>, agent:<name> or service:<name>)"
            )));
        };
        let actor = match kind {
            "human" => Actor::Human(name.to_string()),
            "agent" => Actor::Agent(name.to_string()),
            "service" => Actor::Service(name.to_string()),
            other => {
                return Err(ActorError(format!(
                    "actor kind {other:?} is not human, agent or service"
                )))
            }
        };
        actor.validate()?;
        Ok(actor)
    }

    /// The rules `parse` applies to the name, for an actor built in Rust.
    pub fn validate(&self) -> Result<(), ActorError> {
        let name = self.name();
        if name.is_empty() {
            return Err(ActorError(format!("a {} actor needs a name", self.kind())));
        }
        if name.trim() != name || name.chars().any(char::is_control) {
            return Err(ActorError(format!(
                "actor name {name:?} has surrounding blanks or control characters"
            )));
        }
        if self.kind().len() + 1 + name.chars().count() > MAX_ACTOR_LEN {
            return Err(ActorError(format!(
                "actor {self} is longer than {MAX_ACTOR_LEN} characters"
            )));
        }
        Ok(())
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Human(_) => "human",
            Actor::Agent(_) => "agent",
            Actor::Service(_) => "service",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Actor::Human(name) | Actor::Agent(name) | Actor::Service(name) => name,
        }
    }

    /// A human with a valid name: the only actor that may lift a halt.
    pub fn is_named_human(&self) -> bool {
        matches!(self, Actor::Human(_)) && self.validate().is_ok()
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_desks_spellings_parse_and_print_back() {
        for text in [
            "human:alice",
            "agent:risk",
            "service:execution",
            "human:Alice Smith",
            "human:a:b",
        ] {
            assert_eq!(Actor::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Actor::parse("human:alice"),
            Ok(Actor::Human("alice".into()))
        );
        assert!(Actor::parse("human:alice").unwrap().is_named_human());
        assert!(!Actor::parse("agent:risk").unwrap().is_named_human());
    }

    #[test]
    fn anything_else_is_refused_with_the_rule_it_broke() {
        let cases = [
            ("risk-agent", "kind:name"),
            ("", "kind:name"),
            ("Human:alice", "kind \"Human\""),
            ("robot:r2", "kind \"robot\""),
            ("human:", "needs a name"),
            ("human: alice", "surrounding blanks"),
            ("human:alice\n", "control"),
            ("human:bob\u{7}", "control"),
        ];
        for (text, rule) in cases {
            let e = Actor::parse(text).unwrap_err();
            assert!(e.0.contains(rule), "{text:?}: {e}");
        }
        let long = format!("human:{}", "a".repeat(MAX_ACTOR_LEN - 5));
        assert!(Actor::parse(&long).unwrap_err().0.contains("longer than"));
        assert!(Actor::parse(&long[..MAX_ACTOR_LEN]).is_ok());
        assert!(!Actor::Human(String::new()).is_named_human());
    }
}
