package task

import "testing"

// One describer serves gotask --help TASK and the multi-host summary.
func TestDescribeStep(t *testing.T) {
	sudoTask := &Task{Name: "s", Sudo: "root"}
	plain := &Task{Name: "p"}
	tests := []struct {
		name string
		t    *Task
		st   Step
		want string
	}{
		{"run", plain, Step{Run: "make {{.target}}\n"}, "make {{.target}}"},
		{"run, several lines", plain, Step{Run: "a\nb\n"}, "a\nb"},
		{"run in a sudo task", sudoTask, Step{Run: "id"}, "sudo id"},
		{"sudo = false in a sudo task", sudoTask, Step{Run: "id", NoSudo: true}, "id"},
		{"a step's own sudo", plain, Step{Run: "id", Sudo: "nobody"}, "sudo id"},
		{"local", sudoTask, Step{Local: "date"}, "local: sudo date"},
		{"task", plain, Step{Task: "build", With: map[string]string{"x": "1"}}, "task build"},
		{"put", plain, Step{Put: "bin/app", To: "/opt/app"}, "put bin/app -> /opt/app"},
		{"get", plain, Step{Get: "/var/log/app", To: "logs"}, "get /var/log/app -> logs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.t.DescribeStep(&tt.st); got != tt.want {
				t.Errorf("DescribeStep = %q, want %q", got, tt.want)
			}
		})
	}
}
