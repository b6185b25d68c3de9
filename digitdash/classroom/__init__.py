"""The class: who a browser is (signed student ids) and the teacher's gate."""
